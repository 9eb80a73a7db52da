using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansSweep.Abstractions;
using OrleansSweep.Cli;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// Mutual TLS with a self-signed cluster certificate, between real silo processes (coordinator + device silo: the sweep
/// and trial grains talk across them) and from the CLI as a client; a client without the certificate, or with another
/// one, is refused.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class TlsClusterTests : IAsyncLifetime
{
    private const string Password = "test-only-password";
    private readonly TemporaryDirectory _work = new("orleans-sweep-tls");
    private readonly SiloProcesses _silos;
    private readonly StringWriter _output = new();
    private readonly string _certificate;

    public TlsClusterTests()
    {
        _certificate = _work.Combine("cluster.pfx");
        WriteSelfSigned(_certificate, "CN=orleans-sweep-test-cluster");
        // The client half of this test runs in this process and reads the password as a real client would.
        Environment.SetEnvironmentVariable(ClusterTls.PasswordVariable, Password);
        _silos = new SiloProcesses($"tls-test-{Guid.NewGuid():N}", _work.Combine("artifacts"), _work.Path,
            new Dictionary<string, string> { [ClusterTls.PasswordVariable] = Password });
    }

    private static void WriteSelfSigned(string path, string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
    }

    public async Task InitializeAsync()
    {
        _silos.Start(LoopbackPorts.Free(), "--coordinator-only", "--tls-certificate", _certificate);
        _silos.Start(LoopbackPorts.Free(), "--device", "cpu", "--slots", "2", "--threads", "1", "--tls-certificate", _certificate);
        foreach (var silo in _silos.All) await _silos.JoinedAsync(silo);
    }

    public async Task DisposeAsync()
    {
        await _silos.DisposeAsync();
        Environment.SetEnvironmentVariable(ClusterTls.PasswordVariable, null);
        _work.Dispose();
    }

    private async Task<int> Cli(params string[] args)
    {
        _output.GetStringBuilder().Clear();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        return await CliApp.InvokeAsync(args, TestConsole.Create(_output), limit.Token);
    }

    private string Said => System.Text.RegularExpressions.Regex.Replace(_output.ToString(), @"\s+", " ");

    [Fact]
    public async Task A_cluster_with_tls_runs_a_sweep_for_a_client_holding_its_certificate_and_refuses_others()
    {
        Assert.All(_silos.All, silo => Assert.Contains("Connections: mutual TLS.", System.Text.RegularExpressions.Regex.Replace(_silos.Output(silo), @"\s+", " ")));
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 128, testCount: 20);
        string spec = _work.Combine("spec.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("tls", data, batchSizes: [16, 32], epochs: 1));

        string[] tls = ["--tls-certificate", _certificate];
        Assert.Equal(ExitCodes.Ok, await Cli(["submit", spec, .. _silos.Cluster, .. tls]));
        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "tls", .. _silos.Cluster, .. tls]));
        Assert.Contains("2 converged, 0 diverged, 0 failed", Said);

        // No certificate: the gateways refuse the plain connection.
        Assert.Equal(ExitCodes.Unavailable, await Cli(["status", "tls", .. _silos.Cluster]));
        Assert.Contains("a cluster using TLS needs --tls-certificate", Said);

        // Another self-signed certificate: refused too (it is neither the cluster's nor chained to a trusted root).
        string stranger = _work.Combine("stranger.pfx");
        WriteSelfSigned(stranger, "CN=orleans-sweep-test-cluster");
        Assert.Equal(ExitCodes.Unavailable, await Cli(["status", "tls", .. _silos.Cluster, "--tls-certificate", stranger]));
        Assert.Contains("does the cluster use this TLS certificate?", Said);
        Assert.DoesNotContain("will retry", Said);

        // A certificate file that is not one: named, exit 2.
        Assert.Equal(ExitCodes.UserError, await Cli(["status", "tls", .. _silos.Cluster, "--tls-certificate", spec]));
        Assert.Contains($"{spec}: not a readable PKCS#12 certificate", Said);
    }
}
