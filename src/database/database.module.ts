import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HeraldConfig } from '../config/config';
import { dataSourceOptions, initializeDataSource } from './data-source-options';
import { SettingEntity } from './setting.entity';
import { SettingsStore } from './settings.store';
import { Sql } from './sql';
import { TransactionRunner } from './transaction-runner';
import { WalCheckpointer } from './wal-checkpointer';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: (config: HeraldConfig) => ({ ...dataSourceOptions(config.database), logging: false }),
      dataSourceFactory: (options) => initializeDataSource(options!),
    }),
    TypeOrmModule.forFeature([SettingEntity]),
  ],
  providers: [SettingsStore, TransactionRunner, Sql, WalCheckpointer],
  exports: [SettingsStore, TransactionRunner, Sql, TypeOrmModule],
})
export class DatabaseModule {}
