import { Controller, Get, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { stat } from 'node:fs/promises';
import { Public } from '../auth/decorators';
import { ApiError } from '../common/errors/api-error';
import { CONSOLE_HEADERS, consoleDirectory, resolveConsoleAsset } from './console-assets';

const PREFIX = '/console/';

/**
 * Serves the web console's static files at /console/. Public: the files hold no data, the
 * person signs in on the page with an API key, and every call the page makes goes through
 * the /v1 API and its guard like any other client.
 */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  private readonly root = consoleDirectory();

  @Get()
  async index(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Relative asset URLs in index.html need the trailing slash.
    if (!req.path.endsWith('/')) {
      const query = req.originalUrl.indexOf('?');
      res.redirect(HttpStatus.PERMANENT_REDIRECT, PREFIX + (query >= 0 ? req.originalUrl.slice(query) : ''));
      return;
    }
    await this.send(res, '');
  }

  @Get('*path')
  async asset(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.send(res, req.path.startsWith(PREFIX) ? req.path.slice(PREFIX.length) : '/');
  }

  private async send(res: Response, requestPath: string): Promise<void> {
    const file = resolveConsoleAsset(this.root, requestPath);
    const found = file !== null && (await stat(file).then((s) => s.isFile(), () => false));
    if (!found) throw ApiError.notFound('Console file');
    await new Promise<void>((resolve, reject) => {
      res.sendFile(file, { headers: CONSOLE_HEADERS, dotfiles: 'deny' }, (error) => {
        // Once headers are out (e.g. the browser went away mid-file) there is nothing left to answer.
        if (!error || res.headersSent) resolve();
        else reject(error);
      });
    });
  }
}
