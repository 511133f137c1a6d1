import path from 'node:path';

/**
 * The console's static files: console/ at the project root. This file sits in src/console
 * under ts-jest and in dist/console once compiled, two levels below the root either way
 * (the same rule as the presets in templates/), so `npm start` serves the checked-out files
 * and no build step copies them.
 */
export function consoleDirectory(): string {
  return path.resolve(__dirname, '..', '..', 'console');
}

/** The only file types the console ships; anything else is a 404. */
const SERVED_EXTENSIONS = new Set(['.html', '.js', '.css', '.svg', '.png']);

/**
 * Maps the part of a request path after `/console/` to a file under `root`, or null when
 * the path must not be served: `..`, dot files, empty or encoded separators, NUL bytes and
 * unknown extensions are refused rather than normalized, so nothing outside `root` (and no
 * dot file inside it) is reachable. An empty path is the index page.
 */
export function resolveConsoleAsset(root: string, requestPath: string): string | null {
  if (requestPath === '') return path.join(root, 'index.html');
  const segments: string[] = [];
  for (const raw of requestPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment.startsWith('.') || /[\\/\0]/.test(segment)) return null;
    segments.push(segment);
  }
  if (!SERVED_EXTENSIONS.has(path.extname(segments[segments.length - 1]).toLowerCase())) return null;
  const file = path.join(root, ...segments);
  // Belt and braces: the checks above already keep the path inside root.
  return file.startsWith(root + path.sep) ? file : null;
}

/**
 * Headers on every console response. The page holds an API key, so it may load and call
 * nothing but this origin (no inline script, no CDN), cannot be framed, sends no Referer,
 * and cannot submit a form anywhere (forms are handled in script; a form that somehow
 * submitted natively would otherwise put its fields in a URL).
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Revalidate every time (ETag makes that cheap), so an upgrade is picked up at once.
  'Cache-Control': 'no-cache',
};
