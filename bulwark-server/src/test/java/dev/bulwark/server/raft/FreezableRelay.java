package dev.bulwark.server.raft;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 in front of one port. {@link #freeze()} stops it moving bytes on
 * every connection open at that moment, in both directions, for good, while connections opened
 * later pass: what a connection left in TCP's retransmission back-off looks like to its two
 * ends after its link is healed, with the difference that this one never recovers.
 */
final class FreezableRelay implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /** One relayed connection: the accepted socket, the one to the target, and whether it is frozen. */
  private static final class Link {
    final Socket accepted;
    final Socket toTarget;
    volatile boolean frozen;

    Link(Socket accepted, Socket toTarget) {
      this.accepted = accepted;
      this.toTarget = toTarget;
    }
  }

  FreezableRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("relay-accept-" + listener.getLocalPort()).start(this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Stops every connection open now; later ones pass. */
  void freeze() {
    for (Link link : links) {
      link.frozen = true;
    }
  }

  /** How many connections the relay has accepted so far. */
  int connectionsAccepted() {
    return links.size();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket accepted = listener.accept();
        Socket toTarget;
        try {
          toTarget = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        } catch (IOException refused) {
          accepted.close(); // the target is down: so is the relayed connection
          continue;
        }
        Link link = new Link(accepted, toTarget);
        links.add(link);
        Thread.ofVirtual().start(() -> pump(link, accepted, toTarget));
        Thread.ofVirtual().start(() -> pump(link, toTarget, accepted));
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException("relay to port " + targetPort + " failed", e);
        }
      }
    }
  }

  /** Copies {@code from} to {@code to} until either closes or the link freezes; a frozen link then stays open, idle. */
  private void pump(Link link, Socket from, Socket to) {
    byte[] buffer = new byte[16 << 10];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n = in.read(buffer); n >= 0 && !link.frozen; n = in.read(buffer)) {
        out.write(buffer, 0, n);
      }
      while (link.frozen && !closed) {
        Thread.sleep(50); // hold both sockets open, moving nothing, until the relay closes
      }
    } catch (IOException | InterruptedException e) {
      // one end closed: the other goes too
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Link link : links) {
      closeQuietly(link.accepted);
      closeQuietly(link.toTarget);
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }
}
