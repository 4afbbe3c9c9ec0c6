// The build step (`npm run build`): records what was built. It uses a devDependency on
// purpose, to show dev dependencies are there at build time and pruned from the slug.
import { mkdirSync, writeFileSync } from 'node:fs';
import semver from 'semver';

mkdirSync(new URL('../build/', import.meta.url), { recursive: true });
const info = { builtAt: new Date().toISOString(), node: process.version, nodeMajor: semver.major(process.version) };
writeFileSync(new URL('../build/info.json', import.meta.url), `${JSON.stringify(info, null, 2)}\n`);
console.log(`wrote build/info.json for Node ${info.nodeMajor}`);
