/** Where the built dashboard is (`npm run build` runs Vite into it); the platform serves it at /dashboard. */
import { fileURLToPath } from 'node:url';

/** The directory holding index.html and assets/ after the build. */
export const dashboardDir: string = fileURLToPath(new URL('./public', import.meta.url));
