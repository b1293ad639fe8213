// Two globals @polkadot/api's browser bundle (16.5.6) expects but no published bundle defines.
//
// bundle-polkadot-api.js is built with `global.constants` (for @polkadot/types/extrinsic/
// constants) and `global.util$1` (for @polkadot/types/util) as its factory's arguments, and
// bundle-polkadot-types.js exports neither. The API uses one member of each: the extrinsic
// version to fall back on when the metadata names none, and how a storage entry's value type
// is found. Both are defined here, as @polkadot/types 16.5.6 defines them, before the API
// bundle is loaded.
(function defineApiBundleGlobals(global) {
  'use strict';
  global.constants = global.constants || { LATEST_EXTRINSIC_VERSION: 4 };
  global.util$1 = global.util$1 || {
    /** The value type of a storage entry (plain or map), as @polkadot/types/util has it. */
    unwrapStorageSi: (type) => (type.isPlain ? type.asPlain : type.asMap.value),
  };
})(globalThis);
