// Formatting of chain values for display: balances, accounts, energy and carbon units, bytes.
(function formatModule(PovmDash) {
  'use strict';

  let decimals = 12;
  let token = 'POVM';

  /** Takes the token's decimals and symbol from the node's `system_properties`. */
  function useChainProperties(api) {
    decimals = api.registry.chainDecimals[0] ?? decimals;
    token = api.registry.chainTokens[0] ?? token;
  }

  /** A balance (bigint, in plancks) as "1.234 POVM" (up to 6 fraction digits, trimmed). */
  function balance(planck) {
    const v = BigInt(planck);
    const unit = 10n ** BigInt(decimals);
    const whole = v / unit;
    let frac = (v % unit).toString().padStart(decimals, '0').slice(0, 6).replace(/0+$/, '');
    return `${whole.toLocaleString('en')}${frac ? `.${frac}` : ''} ${token}`;
  }

  /** A token amount typed by a person ("0.001") in plancks; throws on a malformed amount. */
  function parseTokens(text) {
    const m = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(String(text));
    if (!m) throw new Error(`not an amount of ${token}: "${text}"`);
    const frac = (m[2] || '').padEnd(decimals, '0');
    if (frac.length > decimals) throw new Error(`more than ${decimals} decimals: "${text}"`);
    return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac || '0');
  }

  /** An SS58 address shortened to its first and last six characters. */
  function account(address) {
    const s = String(address);
    return s.length > 16 ? `${s.slice(0, 6)}…${s.slice(-6)}` : s;
  }

  /** Energy given in µWh, in the largest unit that keeps it >= 1 (µWh, mWh, Wh, kWh). */
  function energy(uwh) {
    return scaled(Number(uwh), [['µWh', 1], ['mWh', 1e3], ['Wh', 1e6], ['kWh', 1e9]]);
  }

  /** Carbon given in µg CO2e, likewise (µg, mg, g, kg). */
  function carbon(ug) {
    return scaled(Number(ug), [['µg', 1], ['mg', 1e3], ['g', 1e6], ['kg', 1e9]]) + ' CO2e';
  }

  function scaled(value, units) {
    let [name, size] = units[0];
    for (const [n, s] of units) if (Math.abs(value) >= s) [name, size] = [n, s];
    const v = value / size;
    return `${v.toLocaleString('en', { maximumFractionDigits: v < 10 ? 3 : 1 })} ${name}`;
  }

  /** A byte string (a Bytes / BoundedVec<u8> codec) as text when UTF-8, else hex. */
  function bytes(codec) {
    const u8a = codec.toU8a(true);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(u8a);
    } catch {
      return codec.toHex();
    }
  }

  /** A 32-byte digest shortened for a table cell. */
  function digest(hex) {
    const s = String(hex);
    return s.length > 18 ? `${s.slice(0, 10)}…${s.slice(-6)}` : s;
  }

  PovmDash.format = {
    useChainProperties, balance, parseTokens, account, energy, carbon, bytes, digest,
    get token() {
      return token;
    },
  };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
