// The connection to a node: which URL (?rpc=… in the page's address, else the default), the
// WebSocket provider and the ApiPromise built from the node's metadata alone (no custom types).
//
// The provider reconnects on its own; every change is shown in the connection badge, and a
// node that cannot be reached is a named error ("connection") until it answers.
(function connectionModule(PovmDash) {
  'use strict';

  const DEFAULT_RPC = 'ws://127.0.0.1:9944';
  const RETRY_MS = 2500;

  /** The node URL: `?rpc=` if given, else the default. */
  function rpcUrl() {
    const given = new URLSearchParams(location.search).get('rpc');
    return given && given.trim() ? given.trim() : DEFAULT_RPC;
  }

  /**
   * Connects to `url` and resolves with a ready ApiPromise (waiting as long as the node is
   * down, retrying every RETRY_MS). Rejects only for a URL that is not ws:// or wss://.
   */
  async function connect(url) {
    const { status } = PovmDash;
    const { ApiPromise, WsProvider } = globalThis.polkadotApi;
    if (!/^wss?:\/\/./.test(url)) {
      throw new Error(`"${url}" is not a WebSocket URL (ws://host:port or wss://…)`);
    }
    status.connection('connecting', `connecting to ${url}…`);
    const provider = new WsProvider(url, RETRY_MS);
    // The provider also says "disconnected" after each failed attempt; "lost" is for a node
    // that answered before.
    let answered = false;
    provider.on('connected', () => {
      answered = true;
      status.clear('connection');
      status.connection('connected', `connected to ${url}`);
    });
    provider.on('disconnected', () => {
      if (!answered) return;
      answered = false;
      status.connection('disconnected', `disconnected from ${url}, retrying`);
      status.error('connection', `lost the node at ${url}; retrying every ${RETRY_MS / 1000} s`);
    });
    provider.on('error', () => {
      status.connection('error', `cannot reach ${url}`);
      status.error('connection', `cannot reach the node at ${url} (is it running? A node that is not --dev may need --rpc-cors for this page's origin); retrying every ${RETRY_MS / 1000} s`);
    });
    // Not ApiPromise.create: it gives up on the first failed attempt, while this waits for
    // the node (the provider keeps retrying) and shows every failure meanwhile.
    const api = new ApiPromise({ provider, noInitWarn: true });
    // The API re-emits the provider's failures (shown above, as DOM events); its own are Errors
    // (e.g. metadata it cannot decode).
    api.on('error', (err) => {
      if (err instanceof Error) status.error('node API', err);
    });
    await api.isReady;
    return api;
  }

  PovmDash.connection = { DEFAULT_RPC, rpcUrl, connect };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
