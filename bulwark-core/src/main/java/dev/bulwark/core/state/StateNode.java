package dev.bulwark.core.state;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.codec.Decoder;
import dev.bulwark.core.codec.Encoder;
import dev.bulwark.core.codec.TypeDescription;

/**
 * A node of the state trie, held as a flyweight over its canonical encoding. A node's hash is
 * the SHA-256 of that encoding, so the hash a parent stores is also the node's content key:
 * a proof is the chain of encodings from the root. (A store keeps a node under the version
 * that wrote it and its path instead, see {@link NodeRef}, and an internal node it gives back
 * also knows its children's versions.)
 *
 * <pre>
 * leaf:     0x00 | varint key length | key | varint value length | value
 * internal: 0x01 | 16-bit child bitmap (big-endian, bit i = nibble i) | one 32-byte hash per child, in nibble order
 * </pre>
 */
public sealed interface StateNode permits StateNode.Leaf, StateNode.Internal {
  byte LEAF_TAG = 0x00;
  byte INTERNAL_TAG = 0x01;

  /** The canonical bytes: what is stored, hashed and shown in proofs. */
  Bytes encoding();

  /** SHA-256 of {@link #encoding()}: the node's content key and its parent's reference to it. */
  Digest hash();

  /** The codec that stores nodes in a content table; decoding checks canonical form. */
  Codec<StateNode> CODEC = new Codec<>() {
    @Override public TypeDescription type() {
      return new TypeDescription.Primitive("bulwark.state-node/1");
    }

    @Override public void encode(StateNode node, Encoder out) {
      out.writeBytes(node.encoding());
    }

    @Override public StateNode decode(Decoder in) {
      int start = in.position();
      byte[] rest = in.readBytes(in.remaining());
      try {
        return StateNode.decode(Bytes.adopt(rest));
      } catch (IllegalArgumentException e) {
        throw new DecodeException(DecodeException.Reason.INVALID_VALUE, start, e.getMessage());
      }
    }
  };

  /** Parses a canonical node encoding; anything else is an {@link IllegalArgumentException}. */
  static StateNode decode(Bytes encoding) {
    if (encoding.isEmpty()) {
      throw new IllegalArgumentException("empty state node");
    }
    return switch (encoding.at(0)) {
      case LEAF_TAG -> Leaf.parse(encoding);
      case INTERNAL_TAG -> Internal.parse(encoding);
      default -> throw new IllegalArgumentException("unknown state node tag " + (encoding.at(0) & 0xFF));
    };
  }

  /**
   * A key and its value; the key's SHA-256 is its path through the trie. Held as its encoding
   * array and the offsets into it, with no wrapper objects: the nodes of a large state live in
   * the cache, and each object of a node is one more memory stall on a lookup and one more
   * object for the garbage collector to copy.
   */
  final class Leaf implements StateNode {
    private final byte[] encoding;
    private final int keyOffset;
    private final int keyLength;
    private final int valueOffset;
    private final int valueLength;
    private Digest hash;
    private Digest keyHash;

    private Leaf(byte[] encoding, int keyOffset, int keyLength, int valueOffset, int valueLength) {
      this.encoding = encoding;
      this.keyOffset = keyOffset;
      this.keyLength = keyLength;
      this.valueOffset = valueOffset;
      this.valueLength = valueLength;
    }

    public static Leaf of(Bytes key, Bytes value) {
      int keyOffset = 1 + varLength(key.length());
      int valueOffset = keyOffset + key.length() + varLength(value.length());
      byte[] out = new byte[valueOffset + value.length()];
      out[0] = LEAF_TAG;
      writeVarLong(out, 1, key.length());
      System.arraycopy(key.unsafeArray(), 0, out, keyOffset, key.length());
      writeVarLong(out, keyOffset + key.length(), value.length());
      System.arraycopy(value.unsafeArray(), 0, out, valueOffset, value.length());
      return new Leaf(out, keyOffset, key.length(), valueOffset, value.length());
    }

    static Leaf parse(Bytes encoding) {
      byte[] b = encoding.unsafeArray();
      long[] at = {1};
      int keyLength = readLength(b, at, "key");
      int keyOffset = (int) at[0];
      if (keyLength > b.length - keyOffset) {
        throw new IllegalArgumentException("malformed state leaf: the key runs past the end");
      }
      at[0] += keyLength;
      int valueLength = readLength(b, at, "value");
      int valueOffset = (int) at[0];
      if (valueLength != b.length - valueOffset) {
        throw new IllegalArgumentException("malformed state leaf: a value of " + valueLength + " bytes in "
            + (b.length - valueOffset));
      }
      return new Leaf(b, keyOffset, keyLength, valueOffset, valueLength);
    }

    /** A canonical (shortest-form) varint length at {@code at[0]}, which moves past it. */
    private static int readLength(byte[] b, long[] at, String what) {
      long v = 0;
      int i = (int) at[0];
      for (int shift = 0; ; shift += 7) {
        if (i >= b.length || shift > 28) {
          throw new IllegalArgumentException("malformed state leaf: " + what + " length cut short or too long");
        }
        byte x = b[i++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          if (x == 0 && shift > 0) {
            throw new IllegalArgumentException("malformed state leaf: " + what + " length not in shortest form");
          }
          break;
        }
      }
      if (v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("malformed state leaf: " + what + " length " + v);
      }
      at[0] = i;
      return (int) v;
    }

    public Bytes key() {
      return Bytes.of(encoding, keyOffset, keyLength);
    }

    public Bytes value() {
      return Bytes.of(encoding, valueOffset, valueLength);
    }

    /** Whether the key is {@code key}, without copying it out. */
    boolean hasKey(Bytes key) {
      byte[] k = key.unsafeArray();
      return java.util.Arrays.equals(encoding, keyOffset, keyOffset + keyLength, k, 0, k.length);
    }

    /** Whether the value is {@code value}, without copying it out. */
    boolean hasValue(Bytes value) {
      byte[] v = value.unsafeArray();
      return java.util.Arrays.equals(encoding, valueOffset, valueOffset + valueLength, v, 0, v.length);
    }

    /** Sets the key hash already computed by the caller, so it is not computed again. */
    void knownKeyHash(Digest k) {
      keyHash = k;
    }

    /** SHA-256 of the key: the path of nibbles from the root. */
    public Digest keyHash() {
      Digest k = keyHash;
      if (k == null) {
        var sha = Digest.newSha256();
        sha.update(encoding, keyOffset, keyLength);
        k = Digest.finish(sha);
        keyHash = k;
      }
      return k;
    }

    /** The encoding array itself, shared: read it, never write it. */
    byte[] encodingArray() {
      return encoding;
    }

    @Override public Bytes encoding() {
      return Bytes.adopt(encoding);
    }

    @Override public Digest hash() {
      Digest h = hash;
      if (h == null) {
        h = Digest.sha256(encoding);
        hash = h;
      }
      return h;
    }

    @Override public boolean equals(Object o) {
      return o instanceof Leaf other && java.util.Arrays.equals(encoding, other.encoding);
    }

    @Override public int hashCode() {
      return java.util.Arrays.hashCode(encoding);
    }

    @Override public String toString() {
      return "Leaf[key " + key() + ", " + valueLength + " value bytes]";
    }
  }

  /** How many bytes {@code v} takes as an unsigned LEB128 varint. */
  static int varLength(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /** Writes {@code v} as an unsigned LEB128 varint at {@code at}; returns where it ends. */
  static int writeVarLong(byte[] out, int at, long v) {
    while ((v & ~0x7FL) != 0) {
      out[at++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[at++] = (byte) v;
    return at;
  }

  /**
   * Up to sixteen children, one per nibble of the key hash at this depth. Besides its canonical
   * encoding (children's hashes only), a node from the store knows the version that wrote each
   * child, which is where the child is stored; a node parsed from a proof does not.
   *
   * <p>A node that knows its children's versions holds them as varints after the canonical
   * encoding, in one array (its <i>stored form</i>, see {@link #storedForm()}): a store writes
   * that array as it is and reads a node back without copying, and a cached node is two
   * objects (this and the array) besides its hash, not five.
   */
  final class Internal implements StateNode {
    static final int HEADER = 3;
    /** The canonical encoding, then (when {@link #hasVersions}) each child's version as a varint. */
    private final byte[] bytes;
    private final int bitmap;
    /** Whether {@link #bytes} ends with the child versions (the stored form) or with the encoding. */
    private final boolean hasVersions;
    private Digest hash;
    /**
     * Children already in memory, by rank, so a walk follows a reference instead of asking the
     * loader (see {@link NodeLoader#linkDepth()}). A racy cache of immutable values: a slot is
     * either empty or holds the child's node.
     */
    private StateNode[] links;

    private Internal(byte[] bytes, int bitmap, boolean hasVersions) {
      this.bytes = bytes;
      this.bitmap = bitmap;
      this.hasVersions = hasVersions;
    }

    /**
     * A node under construction: an array for its stored form with the header written and the
     * version varints at the end; the caller copies one hash per child into
     * {@link #hashOffset}s and then makes the node with {@link #built}.
     */
    static byte[] storedArray(int bitmap, long[] childVersions) {
      int count = Integer.bitCount(bitmap);
      int size = HEADER + Digest.LENGTH * count;
      for (int r = 0; r < count; r++) {
        size += varLength(childVersions[r]);
      }
      byte[] out = new byte[size];
      out[0] = INTERNAL_TAG;
      out[1] = (byte) (bitmap >>> 8);
      out[2] = (byte) bitmap;
      int at = HEADER + Digest.LENGTH * count;
      for (int r = 0; r < count; r++) {
        at = writeVarLong(out, at, childVersions[r]);
      }
      return out;
    }

    static int hashOffset(int rank) {
      return HEADER + rank * Digest.LENGTH;
    }

    /** The node over an array from {@link #storedArray} whose hashes are filled in; {@code hash} is its SHA-256. */
    static Internal built(byte[] stored, int bitmap, Digest hash) {
      Internal node = new Internal(stored, bitmap, true);
      node.hash = hash;
      return node;
    }

    /** A node over {@code children}, indexed by nibble, {@code null} where there is none. */
    public static Internal of(Digest[] children) {
      if (children.length != 16) {
        throw new IllegalArgumentException("an internal node has 16 child slots, not " + children.length);
      }
      int bitmap = 0;
      for (int i = 0; i < 16; i++) {
        if (children[i] != null) {
          bitmap |= 1 << i;
        }
      }
      if (bitmap == 0) {
        throw new IllegalArgumentException("an internal node has at least one child");
      }
      byte[] out = new byte[HEADER + Digest.LENGTH * Integer.bitCount(bitmap)];
      out[0] = INTERNAL_TAG;
      out[1] = (byte) (bitmap >>> 8);
      out[2] = (byte) bitmap;
      int at = HEADER;
      for (int i = 0; i < 16; i++) {
        if (children[i] != null) {
          System.arraycopy(children[i].unsafeArray(), 0, out, at, Digest.LENGTH);
          at += Digest.LENGTH;
        }
      }
      return new Internal(out, bitmap, false);
    }

    static Internal parse(Bytes encoding) {
      return new Internal(encoding.unsafeArray(), checkedBitmap(encoding.unsafeArray(), false), false);
    }

    /**
     * A node from its canonical encoding and the version that wrote each child, in nibble
     * order: how a store that keeps nodes under (version, path) gives them back.
     */
    public static Internal restore(Bytes encoding, long[] childVersions) {
      byte[] e = encoding.unsafeArray();
      if (e.length == 0 || e[0] != INTERNAL_TAG) {
        throw new IllegalArgumentException("not an internal state node");
      }
      int bitmap = checkedBitmap(e, false);
      if (childVersions.length != Integer.bitCount(bitmap)) {
        throw new IllegalArgumentException(childVersions.length + " child versions for " + Integer.bitCount(bitmap)
            + " children");
      }
      byte[] stored = storedArray(bitmap, childVersions);
      System.arraycopy(e, HEADER, stored, HEADER, e.length - HEADER);
      return new Internal(stored, bitmap, true);
    }

    /**
     * A node from its stored form (see {@link #storedForm()}), adopting the array: the
     * canonical encoding, then one varint version per child, nothing after.
     */
    public static Internal fromStoredForm(Bytes stored) {
      byte[] b = stored.unsafeArray();
      if (b.length == 0 || b[0] != INTERNAL_TAG) {
        throw new IllegalArgumentException("not an internal state node");
      }
      int bitmap = checkedBitmap(b, true);
      int count = Integer.bitCount(bitmap);
      int at = HEADER + Digest.LENGTH * count;
      for (int r = 0; r < count; r++) {
        for (int shift = 0; ; shift += 7) {
          if (at >= b.length || shift > 63) {
            throw new IllegalArgumentException("malformed stored state node: child versions cut short or too long");
          }
          byte x = b[at++];
          if (x >= 0) {
            if (x == 0 && shift > 0) {
              throw new IllegalArgumentException("malformed stored state node: a child version not in shortest form");
            }
            break;
          }
        }
      }
      if (at != b.length) {
        throw new IllegalArgumentException("malformed stored state node: " + (b.length - at) + " bytes after the versions");
      }
      return new Internal(b, bitmap, true);
    }

    /** The bitmap of {@code b}, checked against its length: exact, or (stored form) at least the encoding's. */
    private static int checkedBitmap(byte[] b, boolean stored) {
      if (b.length < HEADER) {
        throw new IllegalArgumentException("malformed state node: " + b.length + " bytes");
      }
      int bitmap = (b[1] & 0xFF) << 8 | (b[2] & 0xFF);
      if (bitmap == 0) {
        throw new IllegalArgumentException("malformed state node: no children");
      }
      int expected = HEADER + Digest.LENGTH * Integer.bitCount(bitmap);
      if (stored ? b.length < expected : b.length != expected) {
        throw new IllegalArgumentException("malformed state node: " + b.length + " bytes for "
            + Integer.bitCount(bitmap) + " children, expected " + expected);
      }
      return bitmap;
    }

    private int encodingLength() {
      return HEADER + Digest.LENGTH * Integer.bitCount(bitmap);
    }

    /** Bit i is set when nibble i has a child. */
    public int bitmap() {
      return bitmap;
    }

    public int childCount() {
      return Integer.bitCount(bitmap);
    }

    public boolean hasChild(int nibble) {
      return (bitmap & (1 << nibble)) != 0;
    }

    private int rank(int nibble) {
      return Integer.bitCount(bitmap & ((1 << nibble) - 1));
    }

    /** The hash of the child at {@code nibble}, or {@code null}. */
    public Digest child(int nibble) {
      if (!hasChild(nibble)) {
        return null;
      }
      int at = hashOffset(rank(nibble));
      return Digest.of(java.util.Arrays.copyOfRange(bytes, at, at + Digest.LENGTH));
    }

    /** The version that wrote the child at {@code nibble}, or {@link NodeRef#UNKNOWN_VERSION}. */
    public long childVersion(int nibble) {
      if (!hasChild(nibble)) {
        throw new IllegalArgumentException("no child at nibble " + nibble);
      }
      return childVersionAt(rank(nibble));
    }

    /** Whether this node knows where its children are stored. */
    public boolean hasChildVersions() {
      return hasVersions;
    }

    /** The version of the {@code rank}-th child (in nibble order), for a store that encodes them. */
    public long childVersionAt(int rank) {
      if (!hasVersions) {
        return NodeRef.UNKNOWN_VERSION;
      }
      if (rank < 0 || rank >= childCount()) {
        throw new IndexOutOfBoundsException("child rank " + rank + " of " + childCount());
      }
      int at = encodingLength();
      for (int r = 0; r < rank; r++) {
        while (bytes[at++] < 0) {
          // skip a varint's continuation bytes
        }
      }
      return readVarLong(bytes, at);
    }

    /** Every child's version in rank order into {@code out} (all unknown for a node without them). */
    void childVersionsInto(long[] out) {
      int count = childCount();
      if (!hasVersions) {
        java.util.Arrays.fill(out, 0, count, NodeRef.UNKNOWN_VERSION);
        return;
      }
      int at = encodingLength();
      for (int r = 0; r < count; r++) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
          byte x = bytes[at++];
          v |= (long) (x & 0x7F) << shift;
          if (x >= 0) {
            break;
          }
        }
        out[r] = v;
      }
    }

    private static long readVarLong(byte[] b, int at) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        byte x = b[at++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return v;
        }
      }
    }

    /**
     * The canonical encoding followed by each child's version as a varint, in nibble order:
     * what a store that keeps nodes under (version, path) writes. The node's own array, shared
     * (read it, never write it); the node must know its children's versions.
     */
    public Bytes storedForm() {
      if (!hasVersions) {
        throw new IllegalStateException("a state node without child versions has no stored form");
      }
      return Bytes.adopt(bytes);
    }

    /** The array whose first {@link #encodingLength()} bytes are the encoding, shared: read it, never write it. */
    byte[] array() {
      return bytes;
    }

    /** All sixteen slots, {@code null} where empty. */
    public Digest[] children() {
      Digest[] out = new Digest[16];
      for (int i = 0; i < 16; i++) {
        out[i] = child(i);
      }
      return out;
    }

    @Override public Bytes encoding() {
      return hasVersions ? Bytes.of(bytes, 0, encodingLength()) : Bytes.adopt(bytes);
    }

    @Override public Digest hash() {
      Digest h = hash;
      if (h == null) {
        var sha = Digest.threadSha256();
        sha.update(bytes, 0, encodingLength());
        h = Digest.finish(sha);
        hash = h;
      }
      return h;
    }

    /** The child at {@code nibble} if it is held in memory, else {@code null}. */
    StateNode linked(int nibble) {
      StateNode[] l = links;
      return l == null ? null : l[rank(nibble)];
    }

    void link(int nibble, StateNode child) {
      StateNode[] l = links;
      if (l == null) {
        l = new StateNode[childCount()];
        links = l;
      }
      l[rank(nibble)] = child;
    }

    /**
     * Forgets the children held in memory, so that a tree that is no longer the latest stops
     * pinning its upper levels.
     */
    public void dropLinks() {
      links = null;
    }

    @Override public boolean equals(Object o) {
      return o instanceof Internal other && java.util.Arrays.equals(bytes, 0, encodingLength(), other.bytes, 0,
          other.encodingLength());
    }

    @Override public int hashCode() {
      int h = 1;
      for (int i = 0; i < encodingLength(); i++) {
        h = 31 * h + bytes[i];
      }
      return h;
    }

    @Override public String toString() {
      return "Internal[" + childCount() + " children]";
    }
  }
}
