package dev.bulwark.server.net;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.codec.DecodeException;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import dev.bulwark.core.protocol.MembersQuery;
import dev.bulwark.core.protocol.Outcome;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's client-facing listener (the seed's step 1): TLS 1.3 connections carrying
 * length-prefixed {@link Frame}s, many requests in flight per connection, answered by request
 * id as they complete. Limits hold everywhere: a frame over the size limit or that does not
 * decode gets an error frame and its connection is closed, without touching any other
 * connection; past the in-flight limits a request is answered "busy" at once instead of queued.
 */
public final class IngressServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IngressServer.class);

  private final IngressConfig config;
  private final Handler handler;
  private final Queries queries;
  private volatile Observer observer = Observer.NONE;
  private final Semaphore inFlightTotal;
  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final Channel channel;

  /** Sees every request the listener answers, for metrics; must not block. */
  public interface Observer {
    Observer NONE = (outcome, nanos) -> {};

    /** {@code outcome} was sent {@code nanos} after the request arrived. */
    void answered(Outcome outcome, long nanos);
  }

  /** The read-only side of a replica: state entries with proofs, and the application's queries. */
  public interface Queries {
    /** An entry with its proof under the latest signed head (the answer's id is set by the server). */
    Frame.Answer state(Bytes key);

    /** The application's query {@code name}; {@link IllegalArgumentException} for a bad one. */
    Bytes application(String name, Bytes argument);

    /**
     * Completes when a read may be answered: once the replica has applied everything
     * committed before the call (a Raft ReadIndex), so the answer reflects every write
     * confirmed before the read arrived. Fails when that cannot be confirmed; the read is then
     * refused with {@value #READ_UNAVAILABLE} and the client asks another replica.
     */
    default CompletableFuture<Void> readBarrier() {
      return CompletableFuture.completedFuture(null);
    }

    /** The cluster's current members' client endpoints, id -> host:port, as this replica knows them; empty if unknown. */
    default Map<String, String> members() {
      return Map.of();
    }
  }

  /** The error code of a read this replica could not confirm current (no leader reachable in time). */
  public static final String READ_UNAVAILABLE = "READ_UNAVAILABLE";

  private IngressServer(IngressConfig config, Handler handler,
      Queries queries) throws SSLException, InterruptedException {
    this.config = config;
    this.handler = handler;
    this.queries = queries;
    this.inFlightTotal = new Semaphore(config.inFlightTotalMax());
    SslContextBuilder tlsBuilder = SslContextBuilder.forServer(config.certificate().toFile(), config.privateKey().toFile())
        .protocols(SslProtocols.TLS_v1_3);
    if (config.clientCa().isPresent()) {
      // A certificate is asked for, not required: owner-signed requests come from anyone.
      tlsBuilder.trustManager(config.clientCa().get().toFile()).clientAuth(ClientAuth.OPTIONAL);
    }
    SslContext tls = tlsBuilder.build();
    this.channel = new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                .addLast(tls.newHandler(ch.alloc()))
                .addLast(new LengthFieldBasedFrameDecoder(config.frameBytesMax(), 0, 4, 0, 4))
                .addLast(new LengthFieldPrepender(4))
                .addLast(new Connection());
          }
        })
        .bind(config.host(), config.port()).sync().channel();
  }

  /**
   * Runs a request that {@code origin} carried through the pipeline (or answers "not leader");
   * {@code stateProofs}: whether its receipt should carry proofs of the state entries it wrote.
   */
  @FunctionalInterface
  public interface Handler {
    CompletableFuture<Outcome> submit(ClientRequest request, Origin origin, boolean stateProofs);
  }

  /** Starts listening; {@code handler} runs a request through the pipeline (or answers "not leader"). */
  public static IngressServer start(IngressConfig config,
      Handler handler) {
    return start(config, handler, new Queries() {
      @Override public Frame.Answer state(Bytes key) {
        throw new UnsupportedOperationException("this listener answers no queries");
      }

      @Override public Bytes application(String name, Bytes argument) {
        throw new IllegalArgumentException("this listener answers no queries");
      }
    });
  }

  /**
   * Starts listening; {@code handler} runs requests through the pipeline, {@code queries}
   * answers state queries with a proof under the latest signed head (the answer's id is set here).
   */
  public static IngressServer start(IngressConfig config, Handler handler,
      Queries queries) {
    try {
      return new IngressServer(config, handler, queries);
    } catch (SSLException e) {
      throw new IllegalArgumentException("ingress TLS material " + config.certificate() + ", " + config.privateKey()
          + " is unusable: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding " + config.host() + ":" + config.port(), e);
    }
  }

  /** Reports every answered request to {@code observer} from now on. */
  public void observe(Observer observer) {
    this.observer = java.util.Objects.requireNonNull(observer);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  /**
   * One client connection: its own in-flight bound, frames answered as their futures complete.
   *
   * <p>Answers complete on the pipeline's threads, a whole batch of them in one go. Each one
   * written and flushed on its own would cost an event-loop task, a TLS record and a write
   * system call; instead they wait in {@code outgoing} and one task per burst encodes them,
   * writes them all and flushes once, so a batch's answers to one connection leave in a few
   * records. The encoding happens on the event loop, off the thread that completed them.
   */
  private final class Connection extends SimpleChannelInboundHandler<ByteBuf> {
    private final Semaphore inFlight = new Semaphore(config.inFlightPerConnectionMax());
    private final java.util.Queue<Frame> outgoing = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Set while a drain task is queued on the event loop; cleared before it drains. */
    private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private Origin origin;

    /** Who is on the other end, from the certificate it presented (read once, after the handshake). */
    private Origin origin(ChannelHandlerContext ctx) {
      if (origin == null) {
        origin = Origin.PUBLIC;
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        try {
          java.security.cert.Certificate[] chain = tls.engine().getSession().getPeerCertificates();
          if (chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate leaf) {
            origin = Certificates.gatewayName(leaf).<Origin>map(Origin.Gateway::new).orElse(Origin.PUBLIC);
          }
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
          // No client certificate: a public connection.
        }
      }
      return origin;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frameBytes) {
      Frame frame;
      try {
        frame = Frame.CODEC.decode(Bytes.adopt(ByteBufUtil.getBytes(frameBytes)));
      } catch (DecodeException | IllegalArgumentException e) {
        refuse(ctx, 0, "MALFORMED_FRAME", "the frame does not decode: " + e.getMessage());
        return;
      }
      if (frame instanceof Frame.Query query) {
        answerQuery(ctx, query);
        return;
      }
      if (frame instanceof Frame.AppQuery query) {
        answerAppQuery(ctx, query);
        return;
      }
      switch (frame) {
        case Frame.Request r -> submit(ctx, r.requestId(), r.request(), true);
        case Frame.RequestWithoutStateProofs r -> submit(ctx, r.requestId(), r.request(), false);
        default -> refuse(ctx, 0, "UNEXPECTED_FRAME", "clients send requests and queries only");
      }
    }

    private void submit(ChannelHandlerContext ctx, long requestId, ClientRequest request, boolean stateProofs) {
      long arrived = System.nanoTime();
      String busy = admit();
      if (busy != null) {
        answer(ctx, requestId, new Outcome.Busy(busy), arrived);
        return;
      }
      CompletableFuture<Outcome> answer;
      try {
        answer = handler.submit(request, origin(ctx), stateProofs);
      } catch (RuntimeException e) {
        answer = CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((outcome, failure) -> {
        release();
        Outcome o = failure == null ? outcome : new Outcome.Unknown("the replica failed: " + failure);
        answer(ctx, requestId, o, arrived);
      });
    }

    private void answer(ChannelHandlerContext ctx, long requestId, Outcome outcome, long arrivedNanos) {
      send(ctx, new Frame.Response(requestId, outcome));
      observer.answered(outcome, System.nanoTime() - arrivedNanos);
    }

    private void answerQuery(ChannelHandlerContext ctx, Frame.Query query) {
      afterReadBarrier(ctx, query.requestId(), () -> {
        try {
          Frame.Answer a = queries.state(query.key());
          send(ctx, new Frame.Answer(query.requestId(), a.head(), a.entry()));
        } catch (RuntimeException e) {
          send(ctx, new Frame.Error(query.requestId(), "QUERY_FAILED", String.valueOf(e.getMessage())));
        }
      });
    }

    /** Takes a place in flight on this connection and on the replica; null, or why there is none. */
    private String admit() {
      if (!inFlight.tryAcquire()) {
        return "this connection has " + config.inFlightPerConnectionMax() + " requests in flight";
      }
      if (!inFlightTotal.tryAcquire()) {
        inFlight.release();
        return "this replica has " + config.inFlightTotalMax() + " requests in flight";
      }
      return null;
    }

    /** Gives back the place {@link #admit} took. */
    private void release() {
      inFlight.release();
      inFlightTotal.release();
    }

    /** Runs {@code answer} on this connection's event loop once the read barrier passes, or refuses the read. */
    private void afterReadBarrier(ChannelHandlerContext ctx, long requestId, Runnable answer) {
      // A read waiting for its barrier is in flight like a request, under the same bounds.
      String busy = admit();
      if (busy != null) {
        send(ctx, new Frame.Error(requestId, "BUSY", busy));
        return;
      }
      CompletableFuture<Void> barrier;
      try {
        barrier = queries.readBarrier();
      } catch (RuntimeException e) {
        barrier = CompletableFuture.failedFuture(e);
      }
      barrier.whenCompleteAsync((ok, failure) -> {
        release();
        if (failure == null) {
          answer.run();
        } else {
          Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          send(ctx, new Frame.Error(requestId, READ_UNAVAILABLE, String.valueOf(cause.getMessage())));
        }
      }, ctx.executor());
    }

    private void answerAppQuery(ChannelHandlerContext ctx, Frame.AppQuery query) {
      if (query.requestId() == 0) {
        refuse(ctx, 0, "BAD_REQUEST_ID", "request ids start at 1");
        return;
      }
      if (query.name().equals(MembersQuery.NAME)) {
        // Where the members listen is a hint for finding the leader, not state: no barrier.
        send(ctx, new Frame.AppAnswer(query.requestId(), MembersQuery.ANSWER.encode(queries.members())));
        return;
      }
      afterReadBarrier(ctx, query.requestId(), () -> {
        try {
          send(ctx, new Frame.AppAnswer(query.requestId(), queries.application(query.name(), query.argument())));
        } catch (IllegalArgumentException e) {
          send(ctx, new Frame.Error(query.requestId(), "BAD_QUERY", String.valueOf(e.getMessage())));
        } catch (RuntimeException e) {
          log.warn("query '{}' failed", query.name(), e);
          send(ctx, new Frame.Error(query.requestId(), "QUERY_FAILED", String.valueOf(e.getMessage())));
        }
      });
    }

    private void refuse(ChannelHandlerContext ctx, long requestId, String code, String message) {
      log.debug("closing {}: {}", ctx.channel().remoteAddress(), message);
      ctx.writeAndFlush(encode(new Frame.Error(requestId, code, message))).addListener(ChannelFutureListener.CLOSE);
    }

    private void send(ChannelHandlerContext ctx, Frame frame) {
      if (!ctx.channel().isActive()) {
        return;
      }
      outgoing.add(frame);
      // A frame added after a drain took its last one finds the flag cleared and queues another.
      if (drainQueued.compareAndSet(false, true)) {
        ctx.executor().execute(() -> drain(ctx));
      }
    }

    /** On the event loop: writes every waiting frame, then flushes once. */
    private void drain(ChannelHandlerContext ctx) {
      drainQueued.set(false);
      boolean wrote = false;
      for (Frame f; (f = outgoing.poll()) != null; ) {
        if (ctx.channel().isActive()) {
          ctx.write(encode(f), ctx.voidPromise());
          wrote = true;
        }
      }
      if (wrote) {
        ctx.flush();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        refuse(ctx, 0, "FRAME_TOO_LARGE", "frames are at most " + config.frameBytesMax() + " bytes");
      } else {
        // Garbage instead of TLS, a reset connection: this connection ends, no one else notices.
        log.debug("connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
      }
    }
  }

  private static ByteBuf encode(Frame frame) {
    return Unpooled.wrappedBuffer(Frame.CODEC.encode(frame).unsafeArray());
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
