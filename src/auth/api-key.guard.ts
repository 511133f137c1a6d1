import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from '../common/errors/api-error';
import { type ApiKeyRole, bearerToken, roleAllows } from './api-key-format';
import type { AuthContext } from './auth-context';
import { ApiKeysService } from './api-keys.service';
import { PUBLIC_ROUTE, ROUTE_ROLES } from './decorators';

/** Global guard: every route needs a valid key of an allowed role unless marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<Request & { auth?: AuthContext }>();
    request.auth = await authorize(this.keys, request.headers.authorization, routeRoles(this.reflector, targets));
    return true;
  }
}

/** The roles besides admin a route allows: its @Roles, on the method or else on its controller; none if neither says. */
export function routeRoles(reflector: Reflector, targets: Function[]): ApiKeyRole[] {
  return reflector.getAllAndOverride<ApiKeyRole[]>(ROUTE_ROLES, targets) ?? [];
}

/**
 * The caller of a route that allows `allowed` (admin always), from its Authorization header:
 * a 401 without a key or with an unknown or revoked one, a 403 for a key of another role.
 * The guard's rule, also applied by the raw POST /v1/events route (src/events/ingest-route.ts).
 */
export async function authorize(keys: ApiKeysService, authorization: string | undefined, allowed: readonly ApiKeyRole[]): Promise<AuthContext> {
  const token = bearerToken(authorization);
  if (!token) throw new ApiError(HttpStatus.UNAUTHORIZED, 'Missing API key: send "Authorization: Bearer <key>"');
  const auth = await keys.authenticate(token);
  if (!auth) throw new ApiError(HttpStatus.UNAUTHORIZED, 'Unknown or revoked API key');
  if (!roleAllows(auth.role, allowed)) {
    const needed = ['admin', ...allowed].join(' or ');
    throw new ApiError(HttpStatus.FORBIDDEN, `This endpoint needs a key with role ${needed}; this key's role is ${auth.role}`);
  }
  return auth;
}
