// Who signs: the dev accounts (//Alice … //Ferdie, sr25519, from @polkadot/keyring's
// bundle) and, where a polkadot.js-compatible browser extension has injected itself
// (`window.injectedWeb3`), its accounts with its signer. Fills the form's account <select>.
(function accountsModule(PovmDash) {
  'use strict';

  const DEV_ACCOUNTS = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];
  const APP_NAME = 'PoVM dashboard';

  let keyring = null;
  /** Extension accounts by their <option> value: { address, signer }. */
  const extensionAccounts = new Map();

  /** Loads the dev keys (after the sr25519 WASM is ready) and lists them in `select`. */
  async function loadDevAccounts(select, ss58Format) {
    await globalThis.polkadotUtilCrypto.cryptoWaitReady();
    keyring = new globalThis.polkadotKeyring.Keyring({ type: 'sr25519', ss58Format });
    const group = document.createElement('optgroup');
    group.label = 'dev accounts';
    for (const name of DEV_ACCOUNTS) {
      const pair = keyring.addFromUri(`//${name}`, { name });
      const option = new Option(`//${name} (${PovmDash.format.account(pair.address)})`, `dev://${name}`);
      group.appendChild(option);
    }
    select.appendChild(group);
  }

  /** Whether a browser extension has injected itself into the page. */
  function extensionPresent() {
    return !!globalThis.injectedWeb3 && Object.keys(globalThis.injectedWeb3).length > 0;
  }

  /** Extensions already enabled (their accounts are listed once). */
  const enabledSources = new Set();

  /**
   * Asks every injected extension not yet enabled for access and lists their accounts in
   * `select`; one that refuses does not stop the others (its refusal is in the error thrown
   * when no account came of any). Resolves with the number of accounts listed.
   */
  async function enableExtensions(select, ss58Format) {
    const sources = Object.entries(globalThis.injectedWeb3 || {}).filter(([source]) => !enabledSources.has(source));
    if (!sources.length && !enabledSources.size) throw new Error('no browser extension found (window.injectedWeb3 is empty)');
    let found = 0;
    const refusals = [];
    for (const [source, ext] of sources) {
      let injected;
      let accounts;
      try {
        injected = await ext.enable(APP_NAME);
        accounts = await injected.accounts.get();
      } catch (err) {
        refusals.push(`${source}: ${PovmDash.status.messageOf(err)}`);
        continue;
      }
      enabledSources.add(source);
      const group = document.createElement('optgroup');
      group.label = `${source} extension`;
      for (const acc of accounts) {
        const address = globalThis.polkadotUtilCrypto.encodeAddress(acc.address, ss58Format);
        const value = `ext:${source}:${address}`;
        extensionAccounts.set(value, { address, signer: injected.signer });
        group.appendChild(new Option(`${acc.name || source} (${PovmDash.format.account(address)})`, value));
        found += 1;
      }
      select.appendChild(group);
    }
    if (!found && refusals.length) throw new Error(`no extension gave access: ${refusals.join('; ')}`);
    if (!found && !extensionAccounts.size) throw new Error('the extension gave no accounts: create or allow one for this page');
    return extensionAccounts.size;
  }

  /**
   * What `tx.signAndSend` needs for the chosen <option> value: `{ account, options, address }`
   * (a key pair for dev accounts; an address and the extension's signer otherwise).
   */
  function signerFor(value) {
    if (value.startsWith('dev://')) {
      const pair = keyring?.getPairs().find((p) => p.meta.name === value.slice('dev://'.length));
      if (!pair) throw new Error(`dev account ${value} is not loaded`);
      return { account: pair, options: {}, address: pair.address };
    }
    const ext = extensionAccounts.get(value);
    if (!ext) throw new Error(`unknown account ${value}`);
    return { account: ext.address, options: { signer: ext.signer }, address: ext.address };
  }

  PovmDash.accounts = { loadDevAccounts, extensionPresent, enableExtensions, signerFor };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
