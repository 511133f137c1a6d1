import { Module } from '@nestjs/common';
import { PresetLibrary } from './presets';
import { TemplatesController } from './templates.controller';

/** The handlebars presets, compiled once at start (a broken or missing file stops start-up). */
@Module({
  controllers: [TemplatesController],
  providers: [{ provide: PresetLibrary, useFactory: () => PresetLibrary.load() }],
  exports: [PresetLibrary],
})
export class RenderingModule {}
