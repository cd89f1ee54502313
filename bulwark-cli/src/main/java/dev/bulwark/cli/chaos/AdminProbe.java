package dev.bulwark.cli.chaos;

import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.receipt.ReceiptJson;
import dev.bulwark.core.receipt.SignedBatchHead;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Reads replicas' admin HTTP API (/status, /heads) with short timeouts: a paused or dead replica answers nothing. */
final class AdminProbe implements AutoCloseable {
  /** A replica's /status, as far as chaos needs it. */
  record Status(String role, long term, long appliedIndex, long appliedBatch, String stateDigest, long latestHeadBatch) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

  Optional<Status> status(String address) {
    try {
      JsonReader r = JsonReader.of("status", Json.parse(get(address, "/status", Duration.ofMillis(800))));
      long latest = r.isNull("latestHead") ? -1 : r.object("latestHead").integer("batchNumber");
      return Optional.of(new Status(r.string("role"), r.integer("term"), r.integer("appliedIndex"),
          r.integer("appliedBatch"), r.string("stateDigest"), latest));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Batch number to head hash (hex) for every head the replica holds up to {@code latest}. */
  Map<Long, String> heads(String address, long latest) throws IOException, InterruptedException {
    Map<Long, String> heads = new HashMap<>();
    for (long from = 0; from <= latest; from += 100) {
      JsonReader page = JsonReader.of("heads", Json.parse(get(address, "/heads?from=" + from + "&limit=100",
          Duration.ofSeconds(10))));
      for (Object h : page.array("heads")) {
        SignedBatchHead head = ReceiptJson.readHead(Json.write(h));
        heads.put(head.head().batchNumber(), head.head().hash().hex());
      }
    }
    return heads;
  }

  private String get(String address, String path, Duration timeout) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + address + path))
        .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(address + path + " answered HTTP " + response.statusCode());
    }
    return response.body();
  }

  @Override
  public void close() {
    http.close();
  }
}
