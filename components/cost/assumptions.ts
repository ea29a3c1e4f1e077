/**
 * Usage the estimate cannot read from the program: traffic, stored data, log volume. Each is a stated
 * guess printed beside its line, so a reader can replace it with their own numbers. Idle = the stack at
 * rest; peak = everything at its maximum size and busy.
 */
export interface UsageAssumptions {
  /** Billable hours in a month (AWS's convention: 730). */
  readonly hoursPerMonth: number;
  /** GB a month through the NAT gateways (image pulls, model downloads, AWS APIs without endpoints). */
  readonly natGbPerMonth: { readonly idle: number; readonly peak: number };
  /** Average ALB load balancer capacity units (new connections, active connections, bytes, rules). */
  readonly albLcu: { readonly idle: number; readonly peak: number };
  /** GB a month each enabled EKS control-plane log type writes (audit dominates). */
  readonly controlPlaneLogGbPerTypePerMonth: number;
  /** GB a month of VPC flow logs per flow log (all traffic, 1-minute aggregation). */
  readonly flowLogGbPerMonth: { readonly idle: number; readonly peak: number };
  /** GB each distinct model repository takes on the EFS model cache (a 7B model in bf16 is ~15 GB). */
  readonly efsGbPerModel: number;
  /** Times a month each cached model is read in full (a pod start reads its weights once). */
  readonly efsReadsPerModelPerMonth: { readonly idle: number; readonly peak: number };
  /** GB stored in each S3 bucket (adapters, results, logs/traces/metrics, access logs). */
  readonly s3GbPerBucket: number;
  /** GB of images in each ECR repository (lifecycle policies cap the count). */
  readonly ecrGbPerRepository: number;
  /** Million requests a month through the load balancer, each inspected by the web ACL. */
  readonly wafMillionRequestsPerMonth: { readonly idle: number; readonly peak: number };
}

export const defaultAssumptions: UsageAssumptions = {
  hoursPerMonth: 730,
  natGbPerMonth: { idle: 100, peak: 500 },
  albLcu: { idle: 0.5, peak: 5 },
  controlPlaneLogGbPerTypePerMonth: 2,
  flowLogGbPerMonth: { idle: 10, peak: 50 },
  efsGbPerModel: 15,
  efsReadsPerModelPerMonth: { idle: 5, peak: 60 },
  s3GbPerBucket: 20,
  ecrGbPerRepository: 5,
  wafMillionRequestsPerMonth: { idle: 1, peak: 30 },
};
