import type { MessagePort } from 'node:worker_threads';
import type { JobRun } from '../common/background-thread';
import { AddressPolicy } from './address-policy';
import { type Exchange, HttpExecutor } from './http-executor';
import { answerOf, type SenderThreadOptions, type SendMessage } from './sender-thread';

/**
 * The sender's job in the background thread (sender-thread.ts attaches it): an HttpExecutor of
 * its own, with the same address policy and limits, answering each request with its exchange.
 * Never throws for a request: `exchange` makes every failure an outcome. Its sockets close when
 * its channel does.
 */
export const run: JobRun<SenderThreadOptions> = (options: SenderThreadOptions, port: MessagePort) => {
  const executor = new HttpExecutor({
    addressPolicy: AddressPolicy.parse(options.networks.join(',')),
    connectTimeoutMs: options.connectTimeoutMs,
    deadlineMs: options.deadlineMs,
  });
  port.on('close', () => executor.close());
  port.on('message', (message: SendMessage) => {
    void executor.exchange(message).then(
      (exchange: Exchange) => {
        const { answer, transfer } = answerOf(message.id, exchange);
        port.postMessage(answer, transfer);
      },
      (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
};
