import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Preact without @preact/preset-vite: esbuild's automatic JSX runtime pointed at preact is all the
// page needs, and it keeps the build offline and free of Babel.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an extra inline-free script, but no browser we support needs it.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
