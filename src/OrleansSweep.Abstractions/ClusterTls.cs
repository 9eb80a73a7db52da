using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace OrleansSweep.Abstractions;

/// <summary>A TLS certificate that cannot be used; the message names the file and what is wrong.</summary>
public sealed class TlsConfigurationException(string message) : Core.UserErrorException(message);

/// <summary>
/// Mutual TLS for silo-to-silo and client-to-gateway connections (Orleans' TLS connection package), with one cluster
/// certificate (PKCS#12) that every silo and client holds. A peer is accepted when its certificate chains to a trusted
/// root without errors, or is the cluster certificate itself, so a self-signed certificate needs no certificate
/// store; anything else is refused. Its password comes from the environment (ORLEANS_SWEEP_TLS_PASSWORD), never
/// from a command line or a shipped file.
/// </summary>
public static class ClusterTls
{
    public const string PasswordVariable = "ORLEANS_SWEEP_TLS_PASSWORD";

    public static X509Certificate2 Load(string path, string? password = null)
    {
        password ??= Environment.GetEnvironmentVariable(PasswordVariable);
        if (!File.Exists(path)) throw new TlsConfigurationException($"{path}: TLS certificate file not found (expected a PKCS#12 .pfx with its private key).");
        X509Certificate2 certificate;
        try { certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password); }
        catch (CryptographicException e)
        {
            throw new TlsConfigurationException($"{path}: not a readable PKCS#12 certificate ({e.Message.TrimEnd('.')}; is {PasswordVariable} set to its password?).");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new TlsConfigurationException($"{path}: the certificate has no private key (expected a PKCS#12 .pfx holding both).");
        }
        return certificate;
    }

    /// <summary>Configures both directions: present <paramref name="certificate"/>, require the peer's, validate as described above.</summary>
    public static void Configure(TlsOptions options, X509Certificate2 certificate)
    {
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (remote, _, errors) =>
            errors == SslPolicyErrors.None || remote.RawData.AsSpan().SequenceEqual(certificate.RawData);
        // Silos are addressed by IP: the cluster certificate's name cannot match them all, and validation above does not need it.
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.SimpleName, false);
    }
}
