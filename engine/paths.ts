/**
 * Where built modules live. Workers can only load JavaScript, so a module URL that
 * points at a TypeScript source (as it does under vitest) is mapped to its build
 * output in dist/ (made by `npm run build`, which the npm scripts run first).
 */
const SOURCE_DIRS = ['engine', 'frame', 'game', 'remote', 'stress', 'tools', 'bin', 'scripts', 'bench', 'test'];

/**
 * Resolves `relative` against `base` (an import.meta.url) and, if the result is a
 * TypeScript source inside the project, returns the matching dist/ JavaScript URL.
 * Pass the `.js` name: `builtModuleUrl(import.meta.url, './kinds.js')`.
 */
export function builtModuleUrl(base: string, relative: string): URL {
  const baseUrl = new URL(base);
  const fromSource = baseUrl.pathname.endsWith('.ts');
  const url = new URL(relative, baseUrl);
  if (!fromSource) return url;
  const parts = url.pathname.split('/');
  for (let i = parts.length - 2; i >= 0; i--) {
    if (SOURCE_DIRS.includes(parts[i]) && parts[i - 1] !== 'dist') {
      parts.splice(i, 0, 'dist');
      url.pathname = parts.join('/').replace(/\.ts$/, '.js');
      return url;
    }
  }
  return url;
}
