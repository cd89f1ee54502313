package dev.bulwark.core.protocol;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import java.util.Map;

/**
 * The query a client asks a replica (as an application query of this name, with an empty
 * argument) to learn the current members' client endpoints: how a client keeps finding the
 * leader after the membership changed under it. One definition for both ends of the wire.
 */
public final class MembersQuery {
  /** The application query's name. */
  public static final String NAME = "bulwark.members";

  /** The answer: replica id -> host:port of its client listener. */
  public static final Codec<Map<String, String>> ANSWER = Codecs.map(Codecs.utf8(), Codecs.utf8());

  private MembersQuery() {}
}
