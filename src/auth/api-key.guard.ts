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
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new ApiError(HttpStatus.UNAUTHORIZED, 'Missing API key: send "Authorization: Bearer <key>"');
    const auth = await this.keys.authenticate(token);
    if (!auth) throw new ApiError(HttpStatus.UNAUTHORIZED, 'Unknown or revoked API key');

    const allowed = this.reflector.getAllAndOverride<ApiKeyRole[]>(ROUTE_ROLES, targets) ?? [];
    if (!roleAllows(auth.role, allowed)) {
      const needed = ['admin', ...allowed].join(' or ');
      throw new ApiError(HttpStatus.FORBIDDEN, `This endpoint needs a key with role ${needed}; this key's role is ${auth.role}`);
    }
    request.auth = auth;
    return true;
  }
}
