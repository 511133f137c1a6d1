import { parentPort, workerData } from 'node:worker_threads';
import { AddressPolicy } from './address-policy';
import { type Exchange, HttpExecutor } from './http-executor';
import { answerOf, type SenderThreadOptions, type SendMessage } from './sender-thread';

/**
 * The sender thread's code (sender-thread.ts starts it): an HttpExecutor of its own, with the
 * same address policy and limits, answering each request with its exchange. Never throws for a
 * request: `exchange` makes every failure an outcome.
 */
const options = workerData as SenderThreadOptions;
const executor = new HttpExecutor({
  addressPolicy: AddressPolicy.parse(options.networks.join(',')),
  connectTimeoutMs: options.connectTimeoutMs,
  deadlineMs: options.deadlineMs,
});

parentPort!.on('message', (message: SendMessage | 'close') => {
  if (message === 'close') {
    executor.close();
    parentPort!.close();
    return;
  }
  void executor.exchange(message).then(
    (exchange: Exchange) => {
      const { answer, transfer } = answerOf(message.id, exchange);
      parentPort!.postMessage(answer, transfer);
    },
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
