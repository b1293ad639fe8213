// The energy and CO2 chart, drawn as SVG: per epoch (= session), a bar for the energy of the
// work verified in it and a point on a line for its carbon, each on its own axis, from
// vm-proof's `EpochFootprint`. Epochs without verified work between the first with some and
// the current one are drawn as zero (the storage item is a ValueQuery: absent means zero).
(function energyChartModule(PovmDash) {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const WIDTH = 640;
  const HEIGHT = 260;
  const PAD = { left: 64, right: 72, top: 16, bottom: 36 };
  /** Epochs drawn at most (main.js reads as many). */
  const MAX_EPOCHS = 24;
  /** Epochs drawn at least (zeros before the first with work give the bars a scale). */
  const MIN_EPOCHS = 8;
  const MAX_BAR_WIDTH = 40;

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /**
   * The epochs to draw: from the first with work (or MIN_EPOCHS back, if that is later) to
   * `currentEpoch`, at most the last MAX_EPOCHS.
   */
  function series(footprints, currentEpoch) {
    if (!footprints.length) return [];
    const byEpoch = new Map(footprints.map((f) => [f.epoch, f]));
    const last = Math.max(currentEpoch ?? 0, footprints[footprints.length - 1].epoch);
    const first = Math.max(0, last - MAX_EPOCHS + 1, Math.min(footprints[0].epoch, last - MIN_EPOCHS + 1));
    const out = [];
    for (let e = first; e <= last; e++) {
      out.push(byEpoch.get(e) ?? { epoch: e, energyUwh: 0n, carbonUg: 0n });
    }
    return out;
  }

  /** Draws `footprints` ([{ epoch, energyUwh, carbonUg }]) into the <svg> `svg`. */
  function draw(svg, footprints, currentEpoch) {
    const { format } = PovmDash;
    const points = series(footprints, currentEpoch);
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.dataset.epochs = String(points.length);
    const plotW = WIDTH - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const baseY = PAD.top + plotH;
    svg.appendChild(el('line', { x1: PAD.left, y1: baseY, x2: PAD.left + plotW, y2: baseY, class: 'axis' }));
    if (!points.length) {
      svg.appendChild(el('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'empty' },
        'No verified work yet: the chart fills as jobs complete'));
      return;
    }
    const maxEnergy = Math.max(1, ...points.map((p) => Number(p.energyUwh)));
    const maxCarbon = Math.max(1, ...points.map((p) => Number(p.carbonUg)));
    const slot = plotW / points.length;
    const barW = Math.min(MAX_BAR_WIDTH, Math.max(2, slot * 0.6));

    // Axes: the top of each scale, its middle, and the epochs along the bottom.
    for (const frac of [0.5, 1]) {
      const y = baseY - plotH * frac;
      svg.appendChild(el('line', { x1: PAD.left, y1: y, x2: PAD.left + plotW, y2: y, class: 'grid' }));
      svg.appendChild(el('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'energy-label' },
        format.energy(maxEnergy * frac)));
      svg.appendChild(el('text', { x: PAD.left + plotW + 6, y: y + 4, class: 'carbon-label' },
        format.carbon(maxCarbon * frac).replace(' CO2e', '')));
    }
    svg.appendChild(el('text', { x: PAD.left - 6, y: baseY + 4, 'text-anchor': 'end', class: 'energy-label' }, '0'));
    svg.appendChild(el('text', { x: PAD.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'axis-title' },
      'epoch (session)'));

    const line = [];
    points.forEach((p, i) => {
      const cx = PAD.left + slot * (i + 0.5);
      const h = (Number(p.energyUwh) / maxEnergy) * plotH;
      const bar = el('rect', {
        x: cx - barW / 2, y: baseY - h, width: barW, height: h, class: 'energy-bar',
        'data-testid': 'energy-bar', 'data-epoch': p.epoch, 'data-energy-uwh': p.energyUwh,
      });
      bar.appendChild(el('title', {}, `epoch ${p.epoch}: ${format.energy(p.energyUwh)}, ${format.carbon(p.carbonUg)}`));
      svg.appendChild(bar);
      const cy = baseY - (Number(p.carbonUg) / maxCarbon) * plotH;
      line.push(`${cx},${cy}`);
      const label = points.length <= 12 || i % Math.ceil(points.length / 12) === 0;
      if (label) svg.appendChild(el('text', { x: cx, y: baseY + 16, 'text-anchor': 'middle', class: 'tick' }, p.epoch));
    });
    svg.appendChild(el('polyline', { points: line.join(' '), class: 'carbon-line' }));
    points.forEach((p, i) => {
      const [cx, cy] = line[i].split(',');
      svg.appendChild(el('circle', {
        cx, cy, r: 4, class: 'carbon-point', 'data-testid': 'carbon-point', 'data-epoch': p.epoch,
        'data-carbon-ug': p.carbonUg,
      }));
    });
  }

  PovmDash.energyChart = { draw, MAX_EPOCHS };
})((globalThis.PovmDash = globalThis.PovmDash || {}));
