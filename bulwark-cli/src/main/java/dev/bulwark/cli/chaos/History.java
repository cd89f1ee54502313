package dev.bulwark.cli.chaos;

import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * What the chaos clients did, as an append-only JSON-lines file: one line per invocation,
 * completion and injected fault, in the order they happened. The checker reads nothing else
 * about the clients, so a history can be written by hand for its tests, or kept from a failed
 * run and checked again.
 */
public final class History {
  private History() {}

  /** An operation a client asks for. {@link #key} names it uniquely in the run. */
  public sealed interface Op {
    String key();
  }

  public record Open(String account) implements Op {
    @Override public String key() {
      return "open:" + account;
    }
  }

  public record Deposit(String account, long amount, String reference) implements Op {
    @Override public String key() {
      return "deposit:" + reference;
    }
  }

  public record Withdraw(String account, long amount, String reference) implements Op {
    @Override public String key() {
      return "withdraw:" + reference;
    }
  }

  /** A transfer is named by everything in it: the workload never sends the same one twice. */
  public record Transfer(String from, String to, long amount, long nonce) implements Op {
    @Override public String key() {
      return "transfer:" + from + ":" + nonce + ":" + to + ":" + amount;
    }
  }

  /** A proven balance read. */
  public record Read(String account) implements Op {
    @Override public String key() {
      return "read:" + account;
    }
  }

  /**
   * How an operation ended: applied (or read); refused or rejected, so definitely not applied;
   * answered "not committed"; unknown (no definite answer in time); or a receipt or proof that
   * did not verify.
   */
  public enum Outcome {
    OK, FAILED, NOT_COMMITTED, UNKNOWN, INVALID_PROOF;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    static Outcome ofLabel(String label) {
      return valueOf(label.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
  }

  /** A signed batch head as a client saw it: its number and hash (hex). */
  public record HeadRef(long batch, String hash) {}

  /**
   * A completion: {@code batch} is the batch a receipt names (-1 without one), {@code balance}
   * the primary account's balance after a write or the balance a read returned (-1: no such
   * account), {@code head} the signed head a receipt or read was proven under, {@code receipt}
   * the receipt as JSON.
   */
  public record Completion(Outcome outcome, long batch, long balance, String detail, Optional<HeadRef> head,
      Optional<String> receipt) {
    public static Completion of(Outcome outcome, String detail) {
      return new Completion(outcome, -1, -1, detail, Optional.empty(), Optional.empty());
    }

    /** This completion without its receipt (once the receipt was checked). */
    public Completion withoutReceipt() {
      return receipt.isEmpty() ? this : new Completion(outcome, batch, balance, detail, head, Optional.empty());
    }
  }

  /** A line of the history; {@code micros} since the run started. */
  public sealed interface Event {
    long micros();
  }

  public record Invoke(long micros, String process, long id, Op op) implements Event {}

  public record Complete(long micros, String process, long id, Completion completion) implements Event {}

  /** An injected fault: {@code replica} is the one it hit ("" for none), {@code detail} what was done. */
  public record FaultEvent(long micros, String kind, String replica, String detail) implements Event {}

  // ---------------------------------------------------------------- the file

  /** Appends events to a file, one JSON object a line, flushed as they come; safe to share between threads. */
  public static final class Writer implements AutoCloseable {
    private final BufferedWriter out;
    private final long startNanos = System.nanoTime();

    public Writer(Path file) throws IOException {
      this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }

    /** Microseconds since this writer was opened: the clock of every event. */
    public long now() {
      return (System.nanoTime() - startNanos) / 1_000;
    }

    public synchronized void append(Event event) {
      try {
        out.write(line(event));
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the history", e);
      }
    }

    @Override
    public synchronized void close() throws IOException {
      out.close();
    }
  }

  public static List<Event> read(Path file) throws IOException {
    return read(file, UnaryOperator.identity());
  }

  /**
   * Reads the history a line at a time, passing each completion through {@code keep} before it
   * is held: a long run's history (gigabytes, mostly receipts) need not fit in memory, only what
   * the checker still needs of it (see {@link Checker#dropVerifiedReceipts}).
   */
  public static List<Event> read(Path file, UnaryOperator<Completion> keep) throws IOException {
    List<Event> events = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int number = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        Event event;
        try {
          event = parse(line);
        } catch (RuntimeException e) {
          throw new IOException(file + " line " + number + ": " + e.getMessage(), e);
        }
        if (event instanceof Complete c) {
          event = new Complete(c.micros(), c.process(), c.id(), keep.apply(c.completion()));
        }
        events.add(event);
      }
    }
    return events;
  }

  /** One event as one line of JSON (no line breaks: JSON strings escape them). */
  static String line(Event event) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("t", event.micros());
    switch (event) {
      case Invoke i -> {
        m.put("type", "invoke");
        m.put("process", i.process());
        m.put("id", i.id());
        switch (i.op()) {
          case Open o -> {
            m.put("op", "open");
            m.put("account", o.account());
          }
          case Deposit d -> {
            m.put("op", "deposit");
            m.put("account", d.account());
            m.put("amount", d.amount());
            m.put("reference", d.reference());
          }
          case Withdraw w -> {
            m.put("op", "withdraw");
            m.put("account", w.account());
            m.put("amount", w.amount());
            m.put("reference", w.reference());
          }
          case Transfer t -> {
            m.put("op", "transfer");
            m.put("from", t.from());
            m.put("to", t.to());
            m.put("amount", t.amount());
            m.put("nonce", t.nonce());
          }
          case Read r -> {
            m.put("op", "read");
            m.put("account", r.account());
          }
        }
      }
      case Complete c -> {
        m.put("type", "complete");
        m.put("process", c.process());
        m.put("id", c.id());
        Completion x = c.completion();
        m.put("outcome", x.outcome().label());
        m.put("batch", x.batch());
        m.put("balance", x.balance());
        m.put("detail", x.detail());
        x.head().ifPresent(h -> m.put("head", Map.of("batch", h.batch(), "hash", h.hash())));
        x.receipt().ifPresent(r -> m.put("receipt", Json.parse(r)));
      }
      case FaultEvent f -> {
        m.put("type", "fault");
        m.put("kind", f.kind());
        m.put("replica", f.replica());
        m.put("detail", f.detail());
      }
    }
    return compact(Json.write(m));
  }

  /** Json.write indents; outside strings its line breaks and indentation can go, and strings hold none. */
  private static String compact(String indented) {
    return indented.replaceAll("\n *", "").strip();
  }

  static Event parse(String line) {
    JsonReader r = JsonReader.of("event", Json.parse(line));
    long t = r.integer("t");
    return switch (r.string("type")) {
      case "invoke" -> new Invoke(t, r.string("process"), r.integer("id"), switch (r.string("op")) {
        case "open" -> new Open(r.string("account"));
        case "deposit" -> new Deposit(r.string("account"), r.integer("amount"), r.string("reference"));
        case "withdraw" -> new Withdraw(r.string("account"), r.integer("amount"), r.string("reference"));
        case "transfer" -> new Transfer(r.string("from"), r.string("to"), r.integer("amount"), r.integer("nonce"));
        case "read" -> new Read(r.string("account"));
        default -> throw new IllegalArgumentException("unknown op " + r.string("op"));
      });
      case "complete" -> {
        Optional<HeadRef> head = r.has("head")
            ? Optional.of(new HeadRef(r.object("head").integer("batch"), r.object("head").string("hash")))
            : Optional.empty();
        Optional<String> receipt = r.has("receipt")
            ? Optional.of(Json.write(((Map<?, ?>) Json.parse(line)).get("receipt")))
            : Optional.empty();
        yield new Complete(t, r.string("process"), r.integer("id"), new Completion(Outcome.ofLabel(r.string("outcome")),
            r.integer("batch"), r.integer("balance"), r.string("detail"), head, receipt));
      }
      case "fault" -> new FaultEvent(t, r.string("kind"), r.string("replica"), r.string("detail"));
      default -> throw new IllegalArgumentException("unknown event type " + r.string("type"));
    };
  }
}
