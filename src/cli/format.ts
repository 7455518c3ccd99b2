/** The CLI's text renderings live with the commands they render. */
export * from '../../commands/format.js';
