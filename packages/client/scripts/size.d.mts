/** Bundles and minifies `@errand/client`'s `dist/index.js` with esbuild and measures it, in bytes. */
export function measureClientSize(): Promise<{ minified: number; gzipped: number }>;
