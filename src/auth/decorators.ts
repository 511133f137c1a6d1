import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from './api-key-format';
import type { AuthContext } from './auth-context';

export const PUBLIC_ROUTE = 'herald:public';
export const ROUTE_ROLES = 'herald:roles';

/** Reachable without an API key (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * Roles besides admin that may call a route. Routes without it are admin-only, so a
 * forgotten decorator fails closed.
 */
export const Roles = (...roles: ApiKeyRole[]) => SetMetadata(ROUTE_ROLES, roles);

/** The caller's AuthContext, set by the ApiKeyGuard. */
export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<{ auth?: AuthContext }>().auth;
  if (!auth) throw new Error('@Auth() used on a route the ApiKeyGuard did not authenticate');
  return auth;
});
