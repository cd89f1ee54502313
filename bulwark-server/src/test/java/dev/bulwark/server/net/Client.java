package dev.bulwark.server.net;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.protocol.ClientRequest;
import dev.bulwark.core.protocol.Frame;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.KeyStore;
import java.security.SecureRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** A blocking test client: TLS 1.3, the cluster CA as the only trust anchor, host name checked. */
final class Client implements AutoCloseable {
  final SSLSocket socket;
  final DataOutputStream out;
  final DataInputStream in;

  Client(java.security.cert.X509Certificate caCertificate, int port) throws Exception {
    this(caCertificate, port, null);
  }

  /** A client that presents {@code identity} (a client certificate and its key), if not null. */
  Client(java.security.cert.X509Certificate caCertificate, int port, Certificates.Issued identity) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", caCertificate);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    javax.net.ssl.KeyManager[] keyManagers = null;
    if (identity != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("me", identity.keys().getPrivate(), new char[0],
          new java.security.cert.Certificate[] {identity.certificate()});
      javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
          javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
      keyManagers = new javax.net.ssl.KeyManager[] {new AlwaysPresent((javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0])};
    }
    context.init(keyManagers, tmf.getTrustManagers(), new SecureRandom());
    socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
    SSLParameters params = socket.getSSLParameters();
    params.setEndpointIdentificationAlgorithm("HTTPS");
    socket.setSSLParameters(params);
    socket.setSoTimeout(10_000);
    socket.startHandshake();
    out = new DataOutputStream(socket.getOutputStream());
    in = new DataInputStream(socket.getInputStream());
  }

  /**
   * Presents the one certificate it has even when the server asks for another CA's, as an
   * attacker would; the JDK's own key manager would quietly send none.
   */
  private record AlwaysPresent(javax.net.ssl.X509KeyManager keys) implements javax.net.ssl.X509KeyManager {
    @Override public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"me"};
    }

    @Override public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return "me";
    }

    @Override public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      return null;
    }

    @Override public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return null;
    }

    @Override public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override public java.security.PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  void sendRaw(byte[] frame) throws IOException {
    out.writeInt(frame.length);
    out.write(frame);
    out.flush();
  }

  void send(long id, String client, long sequence) throws IOException {
    sendRaw(Frame.CODEC.encode(new Frame.Request(id, new ClientRequest(Bytes.utf8(client), sequence, Bytes.fromHex("00"))))
        .toByteArray());
  }

  Frame read() throws IOException {
    int length = in.readInt();
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return Frame.CODEC.decode(Bytes.adopt(bytes));
  }

  @Override public void close() throws IOException {
    socket.close();
  }
}

