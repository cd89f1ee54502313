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
 * the trie is a graph of content-addressed objects, and a proof is the chain of encodings.
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

  /** Up to sixteen children, one per nibble of the key hash at this depth. */
  final class Internal implements StateNode {
    static final int HEADER = 3;
    private final Bytes encoding;
    private final int bitmap;
    private Digest hash;

    private Internal(Bytes encoding, int bitmap) {
      this.encoding = encoding;
      this.bitmap = bitmap;
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
      return new Internal(Bytes.adopt(out), bitmap);
    }

    static Internal parse(Bytes encoding) {
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
      return new Internal(encoding, bitmap);
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

    /** The hash of the child at {@code nibble}, or {@code null}. */
    public Digest child(int nibble) {
      if (!hasChild(nibble)) {
        return null;
      }
      int rank = Integer.bitCount(bitmap & ((1 << nibble) - 1));
      int at = HEADER + rank * Digest.LENGTH;
      return Digest.of(java.util.Arrays.copyOfRange(encoding.unsafeArray(), at, at + Digest.LENGTH));
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
