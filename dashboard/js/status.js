// Visible status: the connection badge and named errors on the page, never only the console.
//
// `PovmDash.status.connection(state, text)` sets the badge (#connection-status, its
// data-state is one of connecting / connected / disconnected / error).
// `PovmDash.status.error(name, err)` shows (or replaces) one named error in #error-list;
// `PovmDash.status.clear(name)` removes it once the same thing works again. Names say what
// failed, e.g. "connection", "providers", "job submission".
(function statusModule(PovmDash) {
  'use strict';

  function connection(state, text) {
    const badge = document.getElementById('connection-status');
    badge.dataset.state = state;
    badge.textContent = text;
  }

  function messageOf(err) {
    if (err == null) return 'unknown error';
    if (typeof err === 'string') return err;
    if (err.message) return err.message;
    if (typeof Event !== 'undefined' && err instanceof Event) return `${err.type} (${err.constructor.name})`;
    return String(err);
  }

  function error(name, err) {
    const list = document.getElementById('error-list');
    let item = list.querySelector(`[data-error-name="${CSS.escape(name)}"]`);
    if (!item) {
      item = document.createElement('li');
      item.dataset.errorName = name;
      item.dataset.testid = 'error';
      list.appendChild(item);
    }
    item.textContent = `${name}: ${messageOf(err)}`;
    list.hidden = false;
    console.error(`[dashboard] ${name}:`, err);
  }

  function clear(name) {
    const list = document.getElementById('error-list');
    list.querySelector(`[data-error-name="${CSS.escape(name)}"]`)?.remove();
    list.hidden = list.children.length === 0;
  }

  /** Runs `fn()`; a throw or rejection becomes the named error, a success clears it. */
  async function guarded(name, fn) {
    try {
      const out = await fn();
      clear(name);
      return out;
    } catch (err) {
      error(name, err);
      return undefined;
    }
  }

  PovmDash.status = { connection, error, clear, guarded, messageOf };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
