import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { SecretKeyring } from './secret-keyring';
import { SecretUsageRegistry } from './secret-usage.registry';
import { SecretEntity } from './secret.entity';
import { SecretsController } from './secrets.controller';
import { SecretsService } from './secrets.service';

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([SecretEntity])],
  controllers: [SecretsController],
  providers: [SecretsService, SecretKeyring, SecretUsageRegistry],
  exports: [SecretsService, SecretUsageRegistry],
})
export class SecretsModule {}
