// Makes sure the system programs the test suite drives are installed: Debian's
// Chromium (the browser suite) and redis-server (the BullMQ suite). Idempotent: when
// both are present it does nothing. When one is missing it installs it with apt as
// root; without root or apt it stops and prints the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { pkg: 'chromium', paths: ['/usr/bin/chromium'], bin: 'chromium' },
  { pkg: 'redis-server', paths: ['/usr/bin/redis-server'], bin: 'redis-server' },
];

const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = needs.filter((n) => !n.paths.some((p) => existsSync(p)) && !onPath(n.bin)).map((n) => n.pkg);

if (missing.length === 0) process.exit(0);

const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(`setup-system: missing ${missing.join(', ')}. Install with:\n  sudo ${command}`);
  process.exit(1);
}
console.log(`setup-system: installing ${missing.join(', ')} with apt`);
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
} catch {
  console.error(`setup-system: apt could not install ${missing.join(', ')}. Run:\n  ${command}`);
  process.exit(1);
}
