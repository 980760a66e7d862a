/** The report library: chart specs, headless rendering, tables and the HTML report. */
export * from './render.js';
export * from './charts.js';
export * from './table.js';
export * from './html.js';
export * from './maps.js';
export * from './maze-section.js';
