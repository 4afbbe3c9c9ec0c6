// Vite builds the dashboard into dist/public, served by the platform's API at /dashboard.
// Preact's JSX runtime through esbuild (no preset plugin needed); no inline scripts or styles,
// so the API's Content-Security-Policy can forbid them.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/dashboard/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist/public',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
