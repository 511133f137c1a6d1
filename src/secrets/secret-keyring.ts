import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { SettingsStore } from '../database/settings.store';
import { SecretCipher } from './secret-cipher';
import { loadMasterKey } from './master-key';
import { SecretEntity } from './secret.entity';

const FINGERPRINT_SETTING = 'master_key_fingerprint';

/**
 * Holds the cipher under the master key. At start it compares the key's fingerprint with the
 * one recorded when secrets were first stored, so a changed key is reported at once
 * rather than at the first failed delivery.
 */
@Injectable()
export class SecretKeyring implements OnApplicationBootstrap {
  private readonly logger = new Logger('Secrets');
  readonly cipher: SecretCipher;

  constructor(
    config: HeraldConfig,
    private readonly settings: SettingsStore,
    @InjectRepository(SecretEntity) private readonly secrets: Repository<SecretEntity>,
  ) {
    const loaded = loadMasterKey(config.masterKey, config.dataDir);
    this.cipher = new SecretCipher(loaded.key);
    this.logger.log(`Master key from ${loaded.source}${loaded.path ? ` (${loaded.path})` : ''}`);
    if (loaded.warning) this.logger.warn(loaded.warning);
  }

  async onApplicationBootstrap(): Promise<void> {
    const fingerprint = this.cipher.fingerprint();
    const recorded = await this.settings.get(FINGERPRINT_SETTING);
    if (recorded === fingerprint) return;
    // With nothing encrypted yet, a new key is harmless: adopt it.
    if (recorded === null || (await this.secrets.count()) === 0) {
      await this.settings.set(FINGERPRINT_SETTING, fingerprint);
    } else {
      this.logger.error(
        'The master key differs from the one this database was set up with: stored secrets cannot be decrypted. ' +
          'Restore the original HERALD_MASTER_KEY or key file.',
      );
    }
  }
}
