package dev.bulwark.server.raft;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.Application;
import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.app.StateReader;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.table.Table;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A test application whose state grows fast from small requests: a request names a key, a size
 * and a seed, and apply stores that many pseudo-random (so incompressible) bytes under the key.
 * It makes stores, and so Raft snapshots, of tens or hundreds of MB in seconds.
 */
final class BlobApp implements Application<BlobApp.Put, Integer> {
  record Put(String key, int bytes, long seed) {}

  static final int BLOB_BYTES_MAX = 1 << 20;

  static final Codec<Put> PUT = Codecs.record("blob.Put",
      Codecs.field("key", Codecs.utf8(), Put::key),
      Codecs.field("bytes", Codecs.varU32(), Put::bytes),
      Codecs.field("seed", Codecs.i64(), Put::seed),
      Put::new);

  static final AuthenticatedMap<String, Bytes> BLOBS = new AuthenticatedMap<>("blob.blobs", Codecs.utf8(), Codecs.bytes());

  @Override public String name() {
    return "blob";
  }

  @Override public Codec<Put> requestCodec() {
    return PUT;
  }

  @Override public Codec<Integer> resultCodec() {
    return Codecs.varU32();
  }

  @Override public List<Table<?>> tables() {
    return List.of();
  }

  @Override public Check validate(Put put, Origin origin) {
    return put.bytes() >= 1 && put.bytes() <= BLOB_BYTES_MAX ? Check.OK
        : Check.reject("BAD_SIZE", "a blob has 1 to " + BLOB_BYTES_MAX + " bytes");
  }

  @Override public Check validate(Put put, StateReader snapshot) {
    return Check.OK;
  }

  @Override public Integer apply(Put put, ApplyContext context) {
    byte[] blob = new byte[put.bytes()];
    new SplittableRandom(put.seed()).nextBytes(blob);
    context.put(BLOBS, put.key(), Bytes.adopt(blob));
    return put.bytes();
  }
}
