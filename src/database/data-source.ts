import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from './data-source-options';

/** For the TypeORM CLI (`npm run typeorm -- migration:show`); the app builds its own. */
export default new DataSource(dataSourceOptions(loadConfig(process.env).database));
