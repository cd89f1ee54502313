package dev.bulwark.bench;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.table.ContentTable;
import java.util.SplittableRandom;

/**
 * The ledger-like record the benchmarks encode, hash and store: two 32-byte accounts, an
 * amount, a nonce, a short memo and a 64-byte signature, about 160 bytes encoded. Most of it
 * is random bytes (keys and signatures), so it does not compress, like real ledger entries.
 */
record Transfer(Bytes from, Bytes to, long amount, long nonce, String memo, Bytes signature) {
  static final int ACCOUNT_BYTES = 32;
  static final int SIGNATURE_BYTES = 64;

  static final Codec<Transfer> CODEC = Codecs.record("bench.Transfer",
      Codecs.field("from", Codecs.fixedBytes(ACCOUNT_BYTES), Transfer::from),
      Codecs.field("to", Codecs.fixedBytes(ACCOUNT_BYTES), Transfer::to),
      Codecs.field("amount", Codecs.i64(), Transfer::amount),
      Codecs.field("nonce", Codecs.varU64(), Transfer::nonce),
      Codecs.field("memo", Codecs.utf8(), Transfer::memo),
      Codecs.field("signature", Codecs.fixedBytes(SIGNATURE_BYTES), Transfer::signature),
      Transfer::new);

  static final ContentTable<Transfer> TABLE = ContentTable.of("bench.Transfer", 1, CODEC);

  /** A transfer with random accounts and signature; same seed, same sequence of transfers. */
  static Transfer random(SplittableRandom random) {
    return new Transfer(
        randomBytes(random, ACCOUNT_BYTES),
        randomBytes(random, ACCOUNT_BYTES),
        random.nextLong(1, 1_000_000_000_000L),
        random.nextLong(1, 1_000_000),
        "invoice " + random.nextInt(100_000, 1_000_000) + " rent",
        randomBytes(random, SIGNATURE_BYTES));
  }

  static Bytes randomBytes(SplittableRandom random, int length) {
    byte[] out = new byte[length];
    random.nextBytes(out);
    return Bytes.adopt(out);
  }
}
