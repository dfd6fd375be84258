using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Grpc.Core;
using HlmHub.Identity;
using Microsoft.Extensions.Options;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>
/// <c>hlmhub.v1.RedemptionService</c> (protos/hlmhub/v1/redemption.proto): partners stream redemptions, or send one at
/// a time. This class only moves events between the wire and <see cref="RedemptionPipeline"/>, which decides and
/// commits them in batches; acknowledgements go back in the order the events came.
/// </summary>
internal sealed class RedemptionService(
    RedemptionPipeline pipeline, IOptions<RedemptionOptions> options, CallerSlots<RedemptionService> streams, IHostApplicationLifetime lifetime)
    : V1.RedemptionService.RedemptionServiceBase
{
    /// <summary>The scope every rpc of the service requires.</summary>
    public const string Scope = "hlmhub.redemptions";

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task StreamRedemptions(
        IAsyncStreamReader<V1.RedemptionEvent> requestStream, IServerStreamWriter<V1.RedemptionAck> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var caller = context.GetCaller();
        var partnerId = CallerPartner(context);
        using var slot = streams.Acquire(
            partnerId,
            options.Value.MaxStreamsPerPartner,
            "stream",
            static limit => $"the partner already has {limit} redemption streams open on this instance; {RedemptionOptions.SectionName}:{nameof(RedemptionOptions.MaxStreamsPerPartner)} is {limit}");
        // The in-flight window: acknowledgements to come, in arrival order. When it is full the reader waits, stops
        // reading the stream, and HTTP/2 flow control holds the partner back.
        var inFlight = Channel.CreateBounded<Task<V1.RedemptionAck>>(new BoundedChannelOptions(options.Value.MaxInFlightPerStream)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // A failed acknowledgement (UNAVAILABLE) ends the call: reading stops, and the status goes to the partner. So
        // does the token's expiry (or revocation), whatever the stream is waiting on: a partner that stops reading its
        // acknowledgements leaves the writer held by HTTP/2 flow control and the reader by the full window, where
        // neither the expiring reader nor the expiring writer looks, and the stream (and the partner's slot) would
        // otherwise last as long as the connection.
        using var callEnded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, caller.TokenExpired);
        var writer = WriteAcknowledgementsAsync(inFlight.Reader, responseStream, callEnded, callEnded.Token);
        // On shutdown (SIGTERM) the stream stops reading, answers every event it took, and ends UNAVAILABLE at once:
        // a partner's stream never ends by itself, so waiting for it would hold the hub's drain
        // (Hub:ShutdownDrainTimeout) and then cut it off with answers unsent. Only reading stops: an event already read
        // is still handed over and answered (the pipeline commits until the server has stopped taking calls).
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(callEnded.Token, lifetime.ApplicationStopping);
        var stoppedForShutdown = false;
        ExceptionDispatchInfo? readingFailed = null;
        try
        {
            await foreach (var message in requestStream.ReadAllAsync(reading.Token))
            {
                await inFlight.Writer.WriteAsync(await pipeline.EnqueueAsync(partnerId, message, callEnded.Token), callEnded.Token);
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // Messages already buffered are read without waiting, so a busy stream would not notice otherwise.
                    stoppedForShutdown = true;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (callEnded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The writer failed and ended the call (an acknowledgement that could not be committed, or the token
            // expired as an acknowledgement was written): its failure is the call's status, awaited below. Not
            // `writer.IsFaulted`: the writer cancels before it rethrows, so reading can stop before the writer's task
            // has faulted, and the partner got CANCELLED instead of the writer's status.
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested && !callEnded.IsCancellationRequested)
        {
            stoppedForShutdown = true;
        }
        catch (RpcException exception) when (!callEnded.IsCancellationRequested)
        {
            // The stream failed on what the partner sent (a message over Hub:MaxMessageSizeBytes) or the hub refused the
            // next event (shutting down): the events read before it are handed over and will be committed, so they are
            // answered first, as on shutdown. Ending at once would leave them unanswered, and the writer writing on a
            // call that has ended.
            readingFailed = ExceptionDispatchInfo.Capture(exception);
        }
        finally
        {
            inFlight.Writer.TryComplete();
        }

        try
        {
            await writer;
        }
        catch (OperationCanceledException) when (caller.TokenExpired.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Ended by the token's expiry or revocation: UNAUTHENTICATED saying which, not CANCELLED.
            caller.ThrowIfTokenExpired();
            throw;
        }

        readingFailed?.Throw();
        if (stoppedForShutdown)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ShuttingDown));
        }
    }

    /// <summary>The status message of a stream ended by the hub's shutdown.</summary>
    public const string ShuttingDown =
        "the hub is shutting down: the events acknowledged on this stream are recorded; resend the others to another instance or after restart";

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task<V1.RedemptionAck> Redeem(V1.RedemptionEvent request, ServerCallContext context)
    {
        var partnerId = CallerPartner(context);
        var acknowledgement = await pipeline.EnqueueAsync(partnerId, request, context.CancellationToken);
        return await acknowledgement;
    }

    private static async Task WriteAcknowledgementsAsync(
        ChannelReader<Task<V1.RedemptionAck>> acknowledgements,
        IServerStreamWriter<V1.RedemptionAck> responseStream,
        CancellationTokenSource callEnded,
        CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var acknowledgement in acknowledgements.ReadAllAsync(cancellationToken))
            {
                await responseStream.WriteAsync(await acknowledgement, cancellationToken);
            }
        }
        catch
        {
            await callEnded.CancelAsync();
            throw;
        }
    }

    // The partner is the caller's own, by its token (never a request field).
    private static string CallerPartner(ServerCallContext context)
    {
        var caller = context.GetCaller();
        var partnerId = caller.PartnerId ?? "";
        caller.EnsureOwns(OwnerKind.Partner, partnerId);
        return partnerId;
    }
}
