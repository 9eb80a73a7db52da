using System.Net;
using System.Net.Sockets;

namespace OrleansSweep.Hosting;

public static class LoopbackPorts
{
    /// <summary>A TCP port free on loopback right now (Orleans needs concrete ports; two embedded runs must not collide).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
