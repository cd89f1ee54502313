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

  /** A key and its value; the key's SHA-256 is its path through the trie. */
  final class Leaf implements StateNode {
    private final Bytes encoding;
    private final int keyOffset;
    private final int keyLength;
    private final int valueOffset;
    private final int valueLength;
    private Digest hash;
    private Digest keyHash;

    private Leaf(Bytes encoding, int keyOffset, int keyLength, int valueOffset, int valueLength) {
      this.encoding = encoding;
      this.keyOffset = keyOffset;
      this.keyLength = keyLength;
      this.valueOffset = valueOffset;
      this.valueLength = valueLength;
    }

    public static Leaf of(Bytes key, Bytes value) {
      Encoder out = new Encoder(key.length() + value.length() + 12);
      out.writeByte(LEAF_TAG).writeVarLong(key.length()).writeBytes(key).writeVarLong(value.length()).writeBytes(value);
      int keyOffset = 1 + varLength(key.length());
      int valueOffset = keyOffset + key.length() + varLength(value.length());
      return new Leaf(out.toBytes(), keyOffset, key.length(), valueOffset, value.length());
    }

    static Leaf parse(Bytes encoding) {
      Decoder in = new Decoder(encoding, dev.bulwark.core.codec.DecodeLimits.DEFAULT);
      try {
        in.readUnsignedByte();
        int keyLength = in.readLength(Integer.MAX_VALUE, "state key length");
        int keyOffset = in.position();
        in.readBytes(keyLength);
        int valueLength = in.readLength(Integer.MAX_VALUE, "state value length");
        int valueOffset = in.position();
        in.readBytes(valueLength);
        in.requireEnd();
        return new Leaf(encoding, keyOffset, keyLength, valueOffset, valueLength);
      } catch (DecodeException e) {
        throw new IllegalArgumentException("malformed state leaf: " + e.getMessage(), e);
      }
    }

    private static int varLength(long v) {
      int n = 1;
      while ((v & ~0x7FL) != 0) {
        v >>>= 7;
        n++;
      }
      return n;
    }

    public Bytes key() {
      return encoding.slice(keyOffset, keyOffset + keyLength);
    }

    public Bytes value() {
      return encoding.slice(valueOffset, valueOffset + valueLength);
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
        sha.update(encoding.unsafeArray(), keyOffset, keyLength);
        k = Digest.finish(sha);
        keyHash = k;
      }
      return k;
    }

    @Override public Bytes encoding() {
      return encoding;
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
      return o instanceof Leaf other && encoding.equals(other.encoding);
    }

    @Override public int hashCode() {
      return encoding.hashCode();
    }

    @Override public String toString() {
      return "Leaf[key " + key() + ", " + valueLength + " value bytes]";
    }
  }

  /**
   * Up to sixteen children, one per nibble of the key hash at this depth. Besides its canonical
   * encoding (children's hashes only), a node from the store knows the version that wrote each
   * child, which is where the child is stored; a node parsed from a proof does not.
   */
  final class Internal implements StateNode {
    static final int HEADER = 3;
    private final Bytes encoding;
    private final int bitmap;
    /** The version of each child in nibble order, or {@code null} when unknown. */
    private final long[] childVersions;
    private Digest hash;
    /**
     * Children already in memory, by rank, so a walk follows a reference instead of asking the
     * loader (see {@link NodeLoader#linkDepth()}). A racy cache of immutable values: a slot is
     * either empty or holds the child's node.
     */
    private StateNode[] links;

    Internal(Bytes encoding, int bitmap, long[] childVersions) {
      this.encoding = encoding;
      this.bitmap = bitmap;
      this.childVersions = childVersions;
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
      return new Internal(Bytes.adopt(out), bitmap, null);
    }

    static Internal parse(Bytes encoding) {
      return new Internal(encoding, checkedBitmap(encoding), null);
    }

    /**
     * A node from its canonical encoding and the version that wrote each child, in nibble
     * order: how a store that keeps nodes under (version, path) gives them back.
     */
    public static Internal restore(Bytes encoding, long[] childVersions) {
      if (encoding.isEmpty() || encoding.at(0) != INTERNAL_TAG) {
        throw new IllegalArgumentException("not an internal state node");
      }
      int bitmap = checkedBitmap(encoding);
      if (childVersions.length != Integer.bitCount(bitmap)) {
        throw new IllegalArgumentException(childVersions.length + " child versions for " + Integer.bitCount(bitmap)
            + " children");
      }
      return new Internal(encoding, bitmap, childVersions);
    }

    private static int checkedBitmap(Bytes encoding) {
      if (encoding.length() < HEADER) {
        throw new IllegalArgumentException("malformed state node: " + encoding.length() + " bytes");
      }
      int bitmap = (encoding.at(1) & 0xFF) << 8 | (encoding.at(2) & 0xFF);
      if (bitmap == 0) {
        throw new IllegalArgumentException("malformed state node: no children");
      }
      int expected = HEADER + Digest.LENGTH * Integer.bitCount(bitmap);
      if (encoding.length() != expected) {
        throw new IllegalArgumentException("malformed state node: " + encoding.length() + " bytes for "
            + Integer.bitCount(bitmap) + " children, expected " + expected);
      }
      return bitmap;
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
      int at = HEADER + rank(nibble) * Digest.LENGTH;
      return Digest.of(java.util.Arrays.copyOfRange(encoding.unsafeArray(), at, at + Digest.LENGTH));
    }

    /** The version that wrote the child at {@code nibble}, or {@link NodeRef#UNKNOWN_VERSION}. */
    public long childVersion(int nibble) {
      if (!hasChild(nibble)) {
        throw new IllegalArgumentException("no child at nibble " + nibble);
      }
      return childVersions == null ? NodeRef.UNKNOWN_VERSION : childVersions[rank(nibble)];
    }

    /** Whether this node knows where its children are stored. */
    public boolean hasChildVersions() {
      return childVersions != null;
    }

    /** The version of the {@code rank}-th child (in nibble order), for a store that encodes them. */
    public long childVersionAt(int rank) {
      return childVersions == null ? NodeRef.UNKNOWN_VERSION : childVersions[rank];
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
      return encoding;
    }

    @Override public Digest hash() {
      Digest h = hash;
      if (h == null) {
        h = Digest.sha256(encoding);
        hash = h;
      }
      return h;
    }

    /** Sets the hash computed while building the node, so it is not computed again. */
    void knownHash(Digest h) {
      hash = h;
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
      return o instanceof Internal other && encoding.equals(other.encoding);
    }

    @Override public int hashCode() {
      return encoding.hashCode();
    }

    @Override public String toString() {
      return "Internal[" + childCount() + " children]";
    }
  }
}
