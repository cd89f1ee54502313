package dev.bulwark.cli.bench;

import dev.bulwark.core.Bytes;

/**
 * Where a bench stream's requests come from: the payload of the next transfer from an account
 * the stream owns. Signed transfers are the only kind today; unsigned transfers from a trusted
 * gateway connection will be another implementation, so the streams, the meter and the report
 * stay as they are.
 */
public interface TransferSource {
  /** A short name for the report, such as "signed". */
  String name();

  /** The request payload that moves {@code amount} from {@code from} to {@code to} with {@code nonce}. */
  Bytes transfer(BenchAccount from, String to, long amount, long nonce);
}
