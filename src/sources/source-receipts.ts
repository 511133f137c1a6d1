import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { newId } from '../common/ids';
import { decodeTimeCursor, limitOf, type ListQueryDto, type Page, timeSortKey, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import type { ReceiptDto } from './dto/source.dto';
import { RECEIPTS_PER_SOURCE } from './source-kinds';
import { SourceReceiptEntity } from './source-receipt.entity';

export type NewReceipt = Omit<SourceReceiptEntity, 'id' | 'source'>;

/** The last receipts of each source: written as requests are answered, bounded per source. */
@Injectable()
export class SourceReceipts {
  constructor(
    @InjectRepository(SourceReceiptEntity) private readonly receipts: Repository<SourceReceiptEntity>,
    private readonly tx: TransactionRunner,
  ) {}

  /** Stores a receipt and drops the source's receipts beyond the newest RECEIPTS_PER_SOURCE. */
  async record(receipt: NewReceipt): Promise<void> {
    await this.tx.run(async (em) => {
      await em.insert(SourceReceiptEntity, { ...receipt, id: newId('rcp', receipt.receivedAt) });
      const oldestKept = await em
        .createQueryBuilder(SourceReceiptEntity, 'r')
        .select(['r.id', 'r.receivedAt'])
        .where('r.source_id = :source', { source: receipt.sourceId })
        .orderBy('r.received_at', 'DESC')
        .addOrderBy('r.id', 'DESC')
        .offset(RECEIPTS_PER_SOURCE - 1)
        .limit(1)
        .getOne();
      if (!oldestKept) return;
      await em
        .createQueryBuilder()
        .delete()
        .from(SourceReceiptEntity)
        .where('source_id = :source AND (received_at < :time OR (received_at = :time AND id < :id))', {
          source: receipt.sourceId,
          time: oldestKept.receivedAt,
          id: oldestKept.id,
        })
        .execute();
    });
  }

  /** A source's receipts, newest first. */
  async list(sourceId: string, query: ListQueryDto): Promise<Page<ReceiptDto>> {
    const limit = limitOf(query);
    const qb = this.receipts.createQueryBuilder('r').where('r.source_id = :source', { source: sourceId });
    const after = decodeTimeCursor(query.cursor);
    if (after) qb.andWhere('(r.received_at < :time OR (r.received_at = :time AND r.id < :id))', after);
    const rows = await qb.orderBy('r.received_at', 'DESC').addOrderBy('r.id', 'DESC').take(limit + 1).getMany();
    return toPage(rows, limit, (row) => timeSortKey(row.receivedAt, row.id), toDto);
  }
}

function toDto(row: SourceReceiptEntity): ReceiptDto {
  return {
    id: row.id,
    receivedAt: isoTime(row.receivedAt)!,
    senderId: row.senderId,
    senderEvent: row.senderEvent,
    verdict: row.verdict,
    statusCode: row.statusCode,
    reason: row.reason,
    events: row.events,
  };
}
