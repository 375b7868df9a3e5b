// The fault policy etcd3 runs every call to one etcd member through (faultHandling.host): a
// circuit breaker that opens only when the member is lost (UNAVAILABLE: no connection, or no
// leader), never because one request was slow. A request past its deadline is re-thrown as an
// EtcdSlowRequestError: etcd3 would otherwise close and re-dial every client of the member
// (watch and keep-alive streams included) for one slow request.
import { circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy, type CircuitState, type IDefaultPolicyContext, type IPolicy } from "cockatiel";
import { EtcdSlowRequestError, isDeadlineExceeded, isLostConnection } from "./etcd-retry.js";

export interface MemberPolicyOptions {
  /** Lost-connection failures in a row that open the circuit. */
  readonly failures: number;
  /** How long an open circuit skips the member before one request tests it again. */
  readonly halfOpenAfterMs: number;
}

export const DEFAULT_MEMBER_POLICY: MemberPolicyOptions = { failures: 3, halfOpenAfterMs: 1_000 };

export class MemberPolicy implements IPolicy<IDefaultPolicyContext> {
  declare readonly _altReturn: never;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(options: MemberPolicyOptions = DEFAULT_MEMBER_POLICY) {
    this.breaker = circuitBreaker(handleWhen(isLostConnection), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failures),
    });
  }

  get onSuccess(): IPolicy["onSuccess"] {
    return this.breaker.onSuccess;
  }

  get onFailure(): IPolicy["onFailure"] {
    return this.breaker.onFailure;
  }

  get onBreak(): CircuitBreakerPolicy["onBreak"] {
    return this.breaker.onBreak;
  }

  get onReset(): CircuitBreakerPolicy["onReset"] {
    return this.breaker.onReset;
  }

  get state(): CircuitState {
    return this.breaker.state;
  }

  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    try {
      return await this.breaker.execute(fn, signal);
    } catch (err) {
      if (err instanceof Error && isDeadlineExceeded(err)) throw new EtcdSlowRequestError(err);
      throw err;
    }
  }
}
