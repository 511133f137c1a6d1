import type { SourceKind } from '../source-kinds';
import { determinedSender } from './determined';
import { huggingfaceSender } from './huggingface';
import { mlflowSender } from './mlflow';
import type { Sender } from './sender';
import { valohaiSender } from './valohai';
import { wandbSender } from './wandb';

/** The sender adapter of each source kind. */
export const SENDERS: Readonly<Record<SourceKind, Sender>> = {
  mlflow: mlflowSender,
  determined: determinedSender,
  huggingface: huggingfaceSender,
  wandb: wandbSender,
  valohai: valohaiSender,
};
