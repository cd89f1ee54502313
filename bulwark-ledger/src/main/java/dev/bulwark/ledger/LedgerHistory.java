package dev.bulwark.ledger;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.kv.KeyRange;
import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.table.KeyPrefix;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The ledger's "history" query: an account's operations in the order they were applied, a page
 * at a time. It reads the intent index {@link Ledger#HISTORY} from a position, so a page costs
 * what it returns however long the history is. Answers are not proven (the receipts are).
 */
public final class LedgerHistory {
  private LedgerHistory() {}

  public static final String QUERY = "history";
  public static final int PAGE_MAX = 1000;

  /** Up to {@code limit} operations of {@code account} from position (fromBatch, fromIndex) on. */
  public record Request(String account, long fromBatch, int fromIndex, int limit) {
    public Request {
      Objects.requireNonNull(account);
      if (fromBatch < 0 || fromIndex < 0 || limit < 1 || limit > PAGE_MAX) {
        throw new IllegalArgumentException("a history page starts at a batch and index >= 0 and holds 1 to "
            + PAGE_MAX + " operations");
      }
    }
  }

  /** One applied operation and where it was applied. */
  public record Item(long batchNumber, int indexInBatch, LedgerRequest request) {}

  /** A page; {@code more} when the history goes on after its last item. */
  public record Page(List<Item> items, boolean more) {
    public Page {
      items = List.copyOf(items);
    }
  }

  public static final Codec<Request> REQUEST = Codecs.record("ledger.HistoryRequest",
      Codecs.field("account", Codecs.utf8(), Request::account),
      Codecs.field("fromBatch", Codecs.varU64(), Request::fromBatch),
      Codecs.field("fromIndex", Codecs.varU32(), Request::fromIndex),
      Codecs.field("limit", Codecs.varU32(), Request::limit),
      Request::new);

  private static final Codec<Item> ITEM = Codecs.record("ledger.HistoryItem",
      Codecs.field("batch", Codecs.varU64(), Item::batchNumber),
      Codecs.field("index", Codecs.varU32(), Item::indexInBatch),
      Codecs.field("request", LedgerRequest.CODEC, Item::request),
      Item::new);

  public static final Codec<Page> PAGE = Codecs.record("ledger.HistoryPage",
      Codecs.field("items", Codecs.list(ITEM), Page::items),
      Codecs.field("more", Codecs.bool(), Page::more),
      Page::new);

  static Page read(ReadView committed, Request request) {
    Bytes start = Ledger.HISTORY.keyOf(new Ledger.HistoryKey(request.account(), request.fromBatch(), request.fromIndex())).toBytes();
    KeyRange all = Ledger.HISTORY.range(KeyPrefix.of(Codecs.keyUtf8(), request.account()));
    List<Item> items = new ArrayList<>();
    boolean more = false;
    try (var cursor = committed.scan(new KeyRange(start, all.end()))) {
      while (cursor.hasNext()) {
        var entry = cursor.next();
        if (items.size() == request.limit()) {
          more = true;
          break;
        }
        Ledger.HistoryKey key = Ledger.HISTORY.decodeKey(entry.key());
        var operation = Ledger.OPERATIONS.get(committed,
            new dev.bulwark.core.table.ContentKey(Ledger.OPERATIONS.id(), Codecs.digest().decode(entry.value())));
        items.add(new Item(key.batchNumber(), key.indexInBatch(), operation.orElseThrow(() -> new IllegalStateException(
            "history of " + request.account() + " names an operation that is not stored"))));
      }
    }
    return new Page(items, more);
  }
}
