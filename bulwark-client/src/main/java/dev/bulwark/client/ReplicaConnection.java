package dev.bulwark.client;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.Outcome;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * One TLS connection to one replica, carrying many requests at once: each frame gets a fresh
 * request id, and answers complete the matching future in whatever order they come. When the
 * connection drops, every unanswered future fails, and the client retries elsewhere.
 *
 * <p>Many callers send at once (a lane each). A frame written and flushed by each caller would
 * cost an event-loop task, a TLS record and a system call per request; instead frames wait in
 * {@code outgoing} and one task per burst writes them all and flushes once.
 */
final class ReplicaConnection implements AutoCloseable {
  private static final int FRAME_BYTES_MAX = 64 << 20;

  private final Channel channel;
  private final Map<Long, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final java.util.Queue<Outgoing> outgoing = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Set while a drain task is queued on the event loop; cleared before it drains. */
  private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();

  /** An encoded frame waiting for the event loop. */
  private record Outgoing(long id, Bytes frame) {}

  private ReplicaConnection(Channel channel) {
    this.channel = channel;
  }

  static CompletableFuture<ReplicaConnection> open(EventLoopGroup group, SslContext tls, String host, int port,
      int connectTimeoutMs) {
    CompletableFuture<ReplicaConnection> result = new CompletableFuture<>();
    Handler handler = new Handler();
    new Bootstrap()
        .group(group)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override protected void initChannel(SocketChannel ch) {
            SslHandler ssl = tls.newHandler(ch.alloc(), host, port);
            SSLEngine engine = ssl.engine();
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name this host
            engine.setSSLParameters(params);
            ch.pipeline()
                .addLast(ssl)
                .addLast(new LengthFieldBasedFrameDecoder(FRAME_BYTES_MAX, 0, 4, 0, 4))
                .addLast(new LengthFieldPrepender(4))
                .addLast(handler);
          }
        })
        .connect(host, port)
        .addListener(f -> {
          if (!f.isSuccess()) {
            result.completeExceptionally(new IOException("cannot connect to " + host + ":" + port, f.cause()));
            return;
          }
          Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
          ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
            if (h.isSuccess()) {
              ReplicaConnection connection = new ReplicaConnection(ch);
              handler.connection = connection;
              result.complete(connection);
            } else {
              ch.close();
              result.completeExceptionally(new IOException("TLS handshake with " + host + ":" + port + " failed", h.cause()));
            }
          });
        });
    return result;
  }

  boolean isOpen() {
    return channel.isActive();
  }

  /**
   * Sends one request, asking for state proofs in its receipt or not; the future completes with
   * the replica's answer or fails if the connection drops.
   */
  CompletableFuture<Outcome> send(dev.bulwark.core.protocol.ClientRequest request, boolean stateProofs) {
    long id = nextId.getAndIncrement();
    Frame frame = stateProofs ? new Frame.Request(id, request) : new Frame.RequestWithoutStateProofs(id, request);
    return exchange(id, frame).thenApply(f -> {
      if (f instanceof Frame.Response r) {
        return r.outcome();
      }
      throw new java.util.concurrent.CompletionException(new IOException("unexpected answer " + f.getClass().getSimpleName()));
    });
  }

  /** Asks for a state entry with its proof; completes with the replica's answer frame. */
  CompletableFuture<Frame.Answer> query(Bytes key) {
    long id = nextId.getAndIncrement();
    return exchange(id, new Frame.Query(id, key)).thenApply(f -> {
      if (f instanceof Frame.Answer a) {
        return a;
      }
      throw new java.util.concurrent.CompletionException(new IOException("unexpected answer " + f.getClass().getSimpleName()));
    });
  }

  /** Asks an application query; completes with its answer, or fails with the replica's error for it. */
  CompletableFuture<Bytes> appQuery(String name, Bytes argument) {
    long id = nextId.getAndIncrement();
    return exchange(id, new Frame.AppQuery(id, name, argument)).thenApply(f -> switch (f) {
      case Frame.AppAnswer a -> a.result();
      case Frame.Error e -> throw new java.util.concurrent.CompletionException(new QueryFailedException(e.code(), e.message()));
      default -> throw new java.util.concurrent.CompletionException(
          new IOException("unexpected answer " + f.getClass().getSimpleName()));
    });
  }

  private CompletableFuture<Frame> exchange(long id, Frame outgoing) {
    CompletableFuture<Frame> answer = new CompletableFuture<>();
    pending.put(id, answer);
    this.outgoing.add(new Outgoing(id, Frame.CODEC.encode(outgoing)));
    // A frame added after a drain took its last one finds the flag cleared and queues another.
    if (drainQueued.compareAndSet(false, true)) {
      try {
        channel.eventLoop().execute(this::drain);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // The client is closing: nothing will be sent.
        for (Outgoing o; (o = this.outgoing.poll()) != null; ) {
          fail(o.id(), new IOException("the client is closed", e));
        }
      }
    }
    return answer.whenComplete((o, e) -> pending.remove(id));
  }

  /** On the event loop: writes every waiting frame, then flushes once. */
  private void drain() {
    drainQueued.set(false);
    boolean wrote = false;
    for (Outgoing o; (o = outgoing.poll()) != null; ) {
      long id = o.id();
      channel.write(Unpooled.wrappedBuffer(o.frame().unsafeArray())).addListener(w -> {
        if (!w.isSuccess()) {
          fail(id, new IOException("sending to " + channel.remoteAddress() + " failed", w.cause()));
        }
      });
      wrote = true;
    }
    if (wrote) {
      channel.flush();
    }
  }

  private void complete(long id, Frame frame) {
    CompletableFuture<Frame> f = pending.remove(id);
    if (f != null) {
      f.complete(frame);
    }
  }

  private void fail(long id, Throwable cause) {
    CompletableFuture<Frame> f = pending.remove(id);
    if (f != null) {
      f.completeExceptionally(cause);
    }
  }

  private void answered(Frame frame) {
    switch (frame) {
      case Frame.Response r -> complete(r.requestId(), r);
      case Frame.Answer a -> complete(a.requestId(), a);
      case Frame.Error e when e.requestId() != 0 && pending.containsKey(e.requestId()) -> complete(e.requestId(), e);
      case Frame.AppAnswer a -> complete(a.requestId(), a);
      case Frame.Error e -> {
        IOException refused = new IOException("the replica refused frame " + e.requestId() + ": " + e.code() + " "
            + e.message());
        pending.keySet().forEach(id -> fail(id, refused));
        channel.close();
      }
      case Frame.Request r -> channel.close(); // replicas never send requests
      case Frame.RequestWithoutStateProofs r -> channel.close();
      case Frame.Query q -> channel.close();
      case Frame.AppQuery q -> channel.close();
    }
  }

  private void dropped() {
    IOException lost = new IOException("connection to " + channel.remoteAddress() + " closed");
    pending.keySet().forEach(id -> fail(id, lost));
  }

  @Override
  public void close() {
    channel.close();
  }

  /** Routes inbound frames to the connection once the handshake made it. */
  private static final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
    volatile ReplicaConnection connection;

    @Override protected void channelRead0(ChannelHandlerContext ctx, ByteBuf bytes) {
      ReplicaConnection c = connection;
      if (c == null) {
        ctx.close();
        return;
      }
      Frame frame;
      try {
        frame = Frame.CODEC.decode(Bytes.adopt(ByteBufUtil.getBytes(bytes)));
      } catch (RuntimeException e) {
        ctx.close(); // a replica that speaks garbage is not one to keep talking to
        return;
      }
      c.answered(frame);
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      ReplicaConnection c = connection;
      if (c != null) {
        c.dropped();
      }
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
