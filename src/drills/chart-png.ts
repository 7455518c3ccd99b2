/**
 * A vega-lite spec to PNG bytes without a browser or canvas: vega-lite compiles it, a headless
 * vega View (renderer 'none') writes SVG, resvg draws that with the system's fonts (DejaVu Sans
 * in the image). Loaded on first use, so a process that never draws a chart never loads them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { RecoverError } from '../errors.js';

export interface Png {
  bytes: Buffer;
  width: number;
  height: number;
}

/** Pixels per SVG unit: sharp on high-density screens, still a small file. */
const ZOOM = 2;

export async function renderPng(spec: TopLevelSpec): Promise<Png> {
  try {
    const [{ compile }, { parse, View }, { Resvg }] = await Promise.all([import('vega-lite'), import('vega'), import('@resvg/resvg-js')]);
    const view = new View(parse(compile(spec).spec), { renderer: 'none' });
    let svg: string;
    try {
      svg = await view.toSVG();
    } finally {
      view.finalize();
    }
    const image = new Resvg(svg, { fitTo: { mode: 'zoom', value: ZOOM }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render();
    return { bytes: image.asPng(), width: image.width, height: image.height };
  } catch (error) {
    throw new RecoverError('INTERNAL', 'The chart could not be drawn.', { cause: error });
  }
}
