package dev.bulwark.server.net;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private certificate authority for one cluster: a self-signed CA and the certificates it
 * issues to replicas (server and client use, for mutual TLS between them) and to clients.
 * Keys are EC P-256, which every TLS 1.3 stack speaks; certificates carry the DNS and IP
 * names they are valid for, since clients check host names.
 */
public final class Certificates {
  private Certificates() {}

  /** A key pair and its certificate. */
  public record Issued(KeyPair keys, X509Certificate certificate) {}

  private static KeyPair ecKeys(SecureRandom random) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), random);
    return generator.generateKeyPair();
  }

  /** A new CA, valid for {@code validity}. */
  public static Issued authority(String name, Duration validity, SecureRandom random) {
    try {
      KeyPair keys = ecKeys(random);
      X500Name subject = new X500Name("CN=" + name);
      Instant now = Instant.now();
      var builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(127, random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new Issued(keys, sign(builder, keys));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create a CA", e);
    }
  }

  /**
   * A certificate issued by {@code ca} for {@code name}, valid for the given DNS names and IP
   * addresses, for server and client authentication.
   */
  public static Issued issue(Issued ca, String name, List<String> dnsNames, List<String> ipAddresses, Duration validity,
      SecureRandom random) {
    try {
      KeyPair keys = ecKeys(random);
      Instant now = Instant.now();
      List<GeneralName> names = new ArrayList<>();
      for (String dns : dnsNames) {
        names.add(new GeneralName(GeneralName.dNSName, dns));
      }
      for (String ip : ipAddresses) {
        names.add(new GeneralName(GeneralName.iPAddress, InetAddress.getByName(ip).getHostAddress()));
      }
      var builder = new JcaX509v3CertificateBuilder(ca.certificate(), new BigInteger(127, random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), new X500Name("CN=" + name),
          keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
      return new Issued(keys, sign(builder, ca.keys()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + name, e);
    }
  }

  /** The organisational unit that marks a client certificate as a trusted gateway's. */
  public static final String GATEWAY_UNIT = "bulwark-gateway";

  /** What a client certificate is for. */
  public enum ClientRole {
    /** Identifies a client; gives no more rights than no certificate. */
    CLIENT,
    /** A trusted gateway: may send unsigned transfers, named after the certificate's common name. */
    GATEWAY
  }

  /** A client certificate (client authentication only) issued by {@code ca} for {@code name}. */
  public static Issued issueClient(Issued ca, String name, ClientRole role, Duration validity, SecureRandom random) {
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("client names are 1 to 64 of A-Z a-z 0-9 . _ -, got '" + name + "'");
    }
    try {
      KeyPair keys = ecKeys(random);
      Instant now = Instant.now();
      X500Name subject = new X500Name(role == ClientRole.GATEWAY ? "CN=" + name + ",OU=" + GATEWAY_UNIT : "CN=" + name);
      var builder = new JcaX509v3CertificateBuilder(ca.certificate(), new BigInteger(127, random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      return new Issued(keys, sign(builder, ca.keys()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a client certificate for " + name, e);
    }
  }

  /**
   * The gateway name in a client certificate issued as a gateway's, if it is one. The caller
   * has already checked that the cluster CA issued it (the TLS handshake does).
   */
  public static java.util.Optional<String> gatewayName(X509Certificate certificate) {
    try {
      X500Name subject = new JcaX509CertificateHolder(certificate).getSubject();
      RDN[] units = subject.getRDNs(BCStyle.OU);
      RDN[] names = subject.getRDNs(BCStyle.CN);
      if (units.length != 1 || names.length != 1
          || !GATEWAY_UNIT.equals(IETFUtils.valueToString(units[0].getFirst().getValue()))) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(IETFUtils.valueToString(names[0].getFirst().getValue()));
    } catch (java.security.cert.CertificateEncodingException e) {
      return java.util.Optional.empty();
    }
  }

  private static X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder builder, KeyPair signer) throws GeneralSecurityException {
    try {
      X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate()));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** Reads a certificate (PEM) and its private key (PKCS#8 PEM), as {@link #write} wrote them. */
  public static Issued read(Path certificateFile, Path keyFile) {
    try (var certReader = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(certificateFile));
        var keyReader = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(keyFile))) {
      Object cert = certReader.readObject();
      Object key = keyReader.readObject();
      if (!(cert instanceof X509CertificateHolder holder)
          || !(key instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo info)) {
        throw new IllegalArgumentException(certificateFile + " and " + keyFile + " are not a PEM certificate and PKCS#8 key");
      }
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(holder);
      java.security.PrivateKey privateKey = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(info);
      return new Issued(new KeyPair(certificate.getPublicKey(), privateKey), certificate);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read " + certificateFile + " and " + keyFile + ": " + e.getMessage(), e);
    }
  }

  /** Writes the certificate as PEM and its private key as PKCS#8 PEM, the key with mode 0600. */
  public static void write(Issued issued, Path certificateFile, Path keyFile) {
    try {
      Files.writeString(certificateFile, pem(issued.certificate()));
      Files.deleteIfExists(keyFile);
      Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(keyFile, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(issued.keys().getPrivate(), null)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + certificateFile + " and " + keyFile, e);
    }
  }

  private static String pem(Object object) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(object);
    }
    return text.toString();
  }
}
