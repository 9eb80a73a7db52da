using System.Reflection;
using Orleans.Runtime;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

/// <summary>
/// The client's calls through a silo's failover: a sweep grain that cannot be reached for a while (its silo lost, the
/// sweep not yet re-activated elsewhere) is called again until it answers; an answer that refuses (unknown sweep,
/// rejected spec) is returned at once. Fakes stand in for the grain so the failures are exact and the test is fast; the
/// multi-silo kill tests show the same calls working against a real failover.
/// </summary>
public sealed class SweepClientRetryTests
{
    private static readonly SweepSpec Spec = SweepSpecLoader.Parse(OrleansSweep.TestSupport.SyntheticFashion.SpecJson("retry", "/tmp"));

    [Fact]
    public async Task Every_control_call_is_retried_until_the_sweep_answers_again()
    {
        var sweep = FlakySweep.Create(failures: 3);
        var client = new SweepClient(SingleGrainFactory.Create(sweep));

        await client.PauseAsync("retry");
        await client.CancelAsync("retry");
        await client.ResumeAsync("retry");
        await client.SubmitAsync(Spec);

        var fake = (FlakySweep)(object)sweep;
        Assert.Equal(["Pause", "Cancel", "Resume", "Start"], fake.Answered);
        Assert.Equal(4 * 4, fake.Calls); // 3 failures and the answer, per call
    }

    [Fact]
    public async Task A_refusal_is_an_answer_and_is_not_retried()
    {
        var rejecting = FlakySweep.Create(failures: 0, refusal: new SpecRejectedException("grid.batchSizes: changed"));
        var error = await Assert.ThrowsAsync<SpecRejectedException>(() => new SweepClient(SingleGrainFactory.Create(rejecting)).StartAsync(Spec));
        Assert.Contains("grid.batchSizes", error.Message);
        Assert.Equal(1, ((FlakySweep)(object)rejecting).Calls);

        var unknown = FlakySweep.Create(failures: 0, refusal: new ArgumentException("sweep 'retry' does not exist."));
        await Assert.ThrowsAsync<ArgumentException>(() => new SweepClient(SingleGrainFactory.Create(unknown)).ResumeAsync("retry"));
        Assert.Equal(1, ((FlakySweep)(object)unknown).Calls);
    }

    /// <summary>A sweep grain whose first calls fail as an unreachable silo's do, then answer (or refuse).</summary>
    public class FlakySweep : DispatchProxy
    {
        private int _failuresLeft;
        private Exception? _refusal;
        public int Calls;
        public List<string> Answered { get; } = [];

        public static ISweepGrain Create(int failures, Exception? refusal = null)
        {
            var sweep = Create<ISweepGrain, FlakySweep>();
            var fake = (FlakySweep)(object)sweep;
            fake._failuresLeft = failures;
            fake._refusal = refusal;
            return sweep;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            Calls++;
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                return Failed(method!, new SiloUnavailableException("the silo hosting the sweep is gone"));
            }
            if (_refusal is not null) return Failed(method!, _refusal);
            Answered.Add(method!.Name);
            _failuresLeft = 3; // the next call meets the same outage
            if (method.ReturnType == typeof(Task<SweepChanges>)) return Task.FromResult(new SweepChanges { Name = "retry", State = SweepState.Running });
            return method.ReturnType == typeof(Task) ? Task.CompletedTask : Task.FromResult(new SweepSnapshot { Name = "retry", State = SweepState.Running });
        }

        private static object Failed(MethodInfo method, Exception e) =>
            method.ReturnType == typeof(Task) ? Task.FromException(e)
            : method.ReturnType == typeof(Task<SweepChanges>) ? Task.FromException<SweepChanges>(e)
            : Task.FromException<SweepSnapshot>(e);
    }

    /// <summary>A grain factory that hands out one sweep grain, whatever the key.</summary>
    public class SingleGrainFactory : DispatchProxy
    {
        private object? _grain;

        public static IGrainFactory Create(ISweepGrain grain)
        {
            var factory = Create<IGrainFactory, SingleGrainFactory>();
            ((SingleGrainFactory)(object)factory)._grain = grain;
            return factory;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args) =>
            method!.Name == "GetGrain" && method.ReturnType == typeof(ISweepGrain) ? _grain : throw new NotSupportedException(method.Name);
    }
}
