/**
 * A request with a method the path does not serve: 405 `method_not_allowed` with the error shape
 * and an `Allow` header listing the methods it does serve (RFC 9110), instead of a 404 that would
 * say the path does not exist. OPTIONS is answered 204 with the same `Allow`, as HTTP expects.
 * Unknown paths stay 404.
 *
 * The paths and their methods are read from the app's own routes (and the routers it mounts) at
 * the first such request, when every route is registered, so a new route needs nothing here.
 */
import type { Express, NextFunction, Request, Response } from 'express';
import { AppError } from '../core/errors';

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

function collect(stack: Layer[], into: Map<string, Set<string>>): void {
  for (const layer of stack) {
    if (layer.route) {
      const methods = into.get(layer.route.path) ?? new Set<string>();
      for (const [method, served] of Object.entries(layer.route.methods)) if (served && method !== '_all') methods.add(method.toUpperCase());
      into.set(layer.route.path, methods);
    } else if (layer.handle?.stack) {
      collect(layer.handle.stack, into);
    }
  }
}

/** `/v1/transfers/:id` → a regex matching it as Express does (case-insensitive, optional trailing slash). */
function patternOf(routePath: string): RegExp {
  const escaped = routePath
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`, 'i');
}

function knownPaths(app: Express): KnownPath[] {
  const byPath = new Map<string, Set<string>>();
  collect((app as unknown as { router: { stack: Layer[] } }).router.stack, byPath);
  return [...byPath].map(([routePath, methods]) => {
    // Express answers HEAD wherever it answers GET.
    if (methods.has('GET')) methods.add('HEAD');
    return { pattern: patternOf(routePath), methods };
  });
}

export function methodNotAllowed(app: Express) {
  let paths: KnownPath[] | undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    paths ??= knownPaths(app);
    const allowed = new Set<string>();
    for (const known of paths) if (known.pattern.test(req.path)) known.methods.forEach((m) => allowed.add(m));
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    const allow = [...allowed].sort().join(', ');
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}; it allows ${allow}`));
  };
}
