package dev.bulwark.ledger;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Application;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.app.Rejection;
import dev.bulwark.core.app.StateReader;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.codec.KeyCodec;
import dev.bulwark.core.crypto.PublicKey;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.table.ContentKey;
import dev.bulwark.core.table.ContentTable;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.Table;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The reference application: accounts with an owner's Ed25519 key, deposits and withdrawals
 * authorised by the operator's admin key, transfers signed by the source account's owner with
 * a per-account nonce. A balance never goes negative, and the total supply changes only by
 * deposits and withdrawals.
 *
 * <p>Accounts, the supply and used admin references live in the authenticated state, so a
 * user can get a proof of their balance under any signed batch head. Each applied operation is
 * stored content-addressed, and an account's history is a prefix scan of an intent index.
 */
public final class Ledger implements Application<LedgerRequest, LedgerResult> {
  /** Account names: what a person can type and read back. */
  public static final Pattern ACCOUNT_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  /** No single amount above this, so sums of a few never overflow. */
  public static final long AMOUNT_MAX = 1L << 53;
  public static final int REFERENCE_BYTES_MAX = 64;

  public static final AuthenticatedMap<String, Account> ACCOUNTS =
      new AuthenticatedMap<>("ledger.account", Codecs.utf8(), Account.CODEC);
  /** Total deposits minus withdrawals, under the key "total". */
  public static final AuthenticatedMap<String, Long> SUPPLY =
      new AuthenticatedMap<>("ledger.supply", Codecs.utf8(), Codecs.varU64());
  /** Admin references already used, with the batch that used them. */
  public static final AuthenticatedMap<Bytes, Long> REFERENCES =
      new AuthenticatedMap<>("ledger.admin-reference", Codecs.bytes(), Codecs.varU64());

  /** Every applied operation, content-addressed. */
  public static final ContentTable<LedgerRequest> OPERATIONS = ContentTable.of("ledger.operation", 1, LedgerRequest.CODEC);

  /** One entry of an account's history: where it happened. */
  public record HistoryKey(String account, long batchNumber, int indexInBatch) {}

  static final KeyCodec<HistoryKey> HISTORY_KEY = Codecs.keyRecord("ledger.HistoryKey",
      Codecs.field("account", Codecs.keyUtf8(), HistoryKey::account),
      Codecs.field("batch", Codecs.u64(), HistoryKey::batchNumber),
      Codecs.field("index", Codecs.i32(), HistoryKey::indexInBatch),
      HistoryKey::new);

  /** Account -> its operations in order, as digests into {@link #OPERATIONS}. */
  public static final IntentTable<HistoryKey, Digest> HISTORY =
      IntentTable.of("ledger.history", 1, HISTORY_KEY, Codecs.digest());

  public static final String SUPPLY_KEY = "total";

  private final PublicKey adminKey;

  public Ledger(PublicKey adminKey) {
    this.adminKey = Objects.requireNonNull(adminKey);
  }

  public PublicKey adminKey() {
    return adminKey;
  }

  @Override public String name() {
    return "ledger";
  }

  @Override public Codec<LedgerRequest> requestCodec() {
    return LedgerRequest.CODEC;
  }

  @Override public Codec<LedgerResult> resultCodec() {
    return LedgerResult.CODEC;
  }

  @Override public List<Table<?>> tables() {
    return List.of(OPERATIONS, HISTORY);
  }

  // ---------------------------------------------------------------- stage 2: pure

  @Override
  public Check validate(LedgerRequest request, Origin origin) {
    LedgerOp op = request.op();
    Check shape = switch (op) {
      case LedgerOp.OpenAccount o -> checkName(o.account());
      case LedgerOp.Deposit d -> firstFailure(checkName(d.account()), checkAmount(d.amount()), checkReference(d.reference()));
      case LedgerOp.Withdraw w -> firstFailure(checkName(w.account()), checkAmount(w.amount()), checkReference(w.reference()));
      case LedgerOp.Transfer t -> firstFailure(checkName(t.from()), checkName(t.to()), checkAmount(t.amount()),
          t.from().equals(t.to()) ? Check.reject("SAME_ACCOUNT", "a transfer needs two different accounts") : Check.OK,
          t.nonce() < 1 ? Check.reject("BAD_NONCE", "transfer nonces start at 1") : Check.OK);
    };
    if (shape instanceof Check.Rejected) {
      return shape;
    }
    if (request.authority() instanceof LedgerRequest.Gateway gateway) {
      return checkGateway(op, gateway, origin);
    }
    Check signer = switch (op) {
      case LedgerOp.OpenAccount o -> request.signedBy(o.owner()) ? Check.OK
          : Check.reject("NOT_AUTHORIZED", "an account is opened by its owner's key");
      case LedgerOp.Deposit d -> adminOnly(request);
      case LedgerOp.Withdraw w -> adminOnly(request);
      case LedgerOp.Transfer t -> Check.OK; // the owner is in the state: checked against the snapshot
    };
    if (signer instanceof Check.Rejected) {
      return signer;
    }
    return request.signatureValid() ? Check.OK : Check.reject("BAD_SIGNATURE", "the signature does not verify");
  }

  /** Unsigned requests: transfers only, and only from the gateway connection they name. */
  private static Check checkGateway(LedgerOp op, LedgerRequest.Gateway gateway, Origin origin) {
    if (!(op instanceof LedgerOp.Transfer)) {
      return Check.reject("NOT_AUTHORIZED", "only transfers may be sent unsigned by a gateway");
    }
    return switch (origin) {
      case Origin.Gateway g when g.name().equals(gateway.name()) -> Check.OK;
      case Origin.Gateway g -> Check.reject("NOT_AUTHORIZED",
          "this connection is gateway '" + g.name() + "', not '" + gateway.name() + "'");
      case Origin.Public p -> Check.reject("NOT_AUTHORIZED",
          "unsigned transfers are accepted only from a connection with a gateway certificate");
    };
  }

  private Check adminOnly(LedgerRequest request) {
    return request.signedBy(adminKey) ? Check.OK
        : Check.reject("NOT_AUTHORIZED", "deposits and withdrawals are signed by the operator's admin key");
  }

  private static Check checkName(String account) {
    return ACCOUNT_NAME.matcher(account).matches() ? Check.OK
        : Check.reject("BAD_ACCOUNT_NAME", "account names are 1 to 64 of a-z, 0-9, '.', '_', '-'");
  }

  private static Check checkAmount(long amount) {
    return amount >= 1 && amount <= AMOUNT_MAX ? Check.OK
        : Check.reject("BAD_AMOUNT", "amounts are between 1 and " + AMOUNT_MAX + ", not " + amount);
  }

  private static Check checkReference(Bytes reference) {
    return !reference.isEmpty() && reference.length() <= REFERENCE_BYTES_MAX ? Check.OK
        : Check.reject("BAD_REFERENCE", "an admin reference has 1 to " + REFERENCE_BYTES_MAX + " bytes");
  }

  private static Check firstFailure(Check... checks) {
    for (Check c : checks) {
      if (c instanceof Check.Rejected) {
        return c;
      }
    }
    return Check.OK;
  }

  // ---------------------------------------------------------------- stage 3: optimistic

  @Override
  public Check validate(LedgerRequest request, StateReader state) {
    try {
      check(request, state);
      return Check.OK;
    } catch (Rejection r) {
      return r.toCheck();
    }
  }

  /** Every state-dependent rule; throws the first that fails. Shared by stages 3 and 4. */
  private Account check(LedgerRequest request, StateReader state) {
    return switch (request.op()) {
      case LedgerOp.OpenAccount o -> {
        if (state.get(ACCOUNTS, o.account()).isPresent()) {
          throw new Rejection("ACCOUNT_EXISTS", "account " + o.account() + " already exists");
        }
        yield null;
      }
      case LedgerOp.Deposit d -> {
        unusedReference(state, d.reference());
        yield existing(state, d.account());
      }
      case LedgerOp.Withdraw w -> {
        unusedReference(state, w.reference());
        Account a = existing(state, w.account());
        if (a.balance() < w.amount()) {
          throw new Rejection("INSUFFICIENT_FUNDS", w.account() + " has " + a.balance() + ", not " + w.amount());
        }
        yield a;
      }
      case LedgerOp.Transfer t -> {
        Account from = existing(state, t.from());
        existing(state, t.to());
        // A gateway transfer was checked against its connection in stage 2, on the leader.
        if (!(request.authority() instanceof LedgerRequest.Gateway) && !request.signedBy(from.owner())) {
          throw new Rejection("NOT_AUTHORIZED", "a transfer from " + t.from() + " is signed by its owner's key");
        }
        if (t.nonce() != from.nonce() + 1) {
          throw new Rejection("BAD_NONCE", "the next transfer from " + t.from() + " has nonce " + (from.nonce() + 1)
              + ", not " + t.nonce());
        }
        if (from.balance() < t.amount()) {
          throw new Rejection("INSUFFICIENT_FUNDS", t.from() + " has " + from.balance() + ", not " + t.amount());
        }
        yield from;
      }
    };
  }

  private static Account existing(StateReader state, String account) {
    return state.get(ACCOUNTS, account)
        .orElseThrow(() -> new Rejection("NO_SUCH_ACCOUNT", "there is no account " + account));
  }

  private static void unusedReference(StateReader state, Bytes reference) {
    if (state.get(REFERENCES, reference).isPresent()) {
      throw new Rejection("DUPLICATE_REFERENCE", "admin reference " + reference.hex() + " was already used");
    }
  }

  // ---------------------------------------------------------------- stage 4: apply

  @Override
  public LedgerResult apply(LedgerRequest request, ApplyContext ctx) {
    Account primary = check(request, ctx);
    long supply = ctx.get(SUPPLY, SUPPLY_KEY).orElse(0L);
    Account after = switch (request.op()) {
      case LedgerOp.OpenAccount o -> {
        Account opened = new Account(o.owner(), 0, 0);
        ctx.put(ACCOUNTS, o.account(), opened);
        yield opened;
      }
      case LedgerOp.Deposit d -> {
        Account credited = new Account(primary.owner(), addChecked(primary.balance(), d.amount()), primary.nonce());
        ctx.put(ACCOUNTS, d.account(), credited);
        ctx.put(REFERENCES, d.reference(), ctx.batchNumber());
        ctx.put(SUPPLY, SUPPLY_KEY, addChecked(supply, d.amount()));
        yield credited;
      }
      case LedgerOp.Withdraw w -> {
        Account debited = new Account(primary.owner(), primary.balance() - w.amount(), primary.nonce());
        ctx.put(ACCOUNTS, w.account(), debited);
        ctx.put(REFERENCES, w.reference(), ctx.batchNumber());
        ctx.put(SUPPLY, SUPPLY_KEY, supply - w.amount());
        yield debited;
      }
      case LedgerOp.Transfer t -> {
        Account debited = new Account(primary.owner(), primary.balance() - t.amount(), t.nonce());
        ctx.put(ACCOUNTS, t.from(), debited);
        Account to = existing(ctx, t.to());
        ctx.put(ACCOUNTS, t.to(), new Account(to.owner(), addChecked(to.balance(), t.amount()), to.nonce()));
        yield debited;
      }
    };
    ContentKey stored = OPERATIONS.put(ctx.transaction(), request);
    recordHistory(ctx, request.op().primaryAccount(), stored);
    if (request.op() instanceof LedgerOp.Transfer t) {
      recordHistory(ctx, t.to(), stored);
    }
    return new LedgerResult(request.op().primaryAccount(), after.balance(), after.nonce());
  }

  private static void recordHistory(ApplyContext ctx, String account, ContentKey operation) {
    HISTORY.put(ctx.transaction(), new HistoryKey(account, ctx.batchNumber(), ctx.indexInBatch()), operation.digest());
  }

  private static long addChecked(long a, long b) {
    long sum = a + b;
    if (((a ^ sum) & (b ^ sum)) < 0) {
      throw new Rejection("OVERFLOW", "the balance would overflow");
    }
    return sum;
  }

  @Override
  public Bytes query(String name, Bytes argument, dev.bulwark.core.kv.ReadView committed) {
    if (!LedgerHistory.QUERY.equals(name)) {
      throw new IllegalArgumentException("the ledger answers the query '" + LedgerHistory.QUERY + "', not '" + name + "'");
    }
    LedgerHistory.Request request;
    try {
      request = LedgerHistory.REQUEST.decode(argument);
    } catch (dev.bulwark.core.codec.DecodeException e) {
      throw new IllegalArgumentException("the history request does not decode: " + e.getMessage(), e);
    }
    return LedgerHistory.PAGE.encode(LedgerHistory.read(committed, request));
  }

  /** The balance of {@code account} in a read view, for tools and tests. */
  public static Optional<Account> account(StateReader state, String account) {
    return state.get(ACCOUNTS, account);
  }
}
