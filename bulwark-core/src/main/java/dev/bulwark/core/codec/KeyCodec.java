package dev.bulwark.core.codec;

/**
 * A codec whose encodings sort (unsigned, byte by byte) in the same order as the values
 * and are prefix-free, so that a record of key codecs encodes to the concatenation of its
 * fields and every leading group of fields is a contiguous, ordered key range. Intent keys
 * are built from these.
 */
public interface KeyCodec<T> extends Codec<T> {}
