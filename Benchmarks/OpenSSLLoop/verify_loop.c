/* How fast OpenSSL verifies outside Veto: the baseline for README "Performance" (why ES256 misses).
 *
 *   gcc -O2 Benchmarks/OpenSSLLoop/verify_loop.c -o .build/verify_loop -lcrypto
 *   taskset -c 0 .build/verify_loop ec 30000     # ECDSA P-256 / SHA-256
 *   taskset -c 0 .build/verify_loop rsa 30000    # RSA-2048 PKCS#1 v1.5 / SHA-256
 *
 * Times three ways of verifying one signature over a 300-byte message, N times each:
 *   - what Veto does: an EVP_DigestVerify context prepared once and copied per call (FINALISE set);
 *   - a precomputed SHA-256 digest and one EVP_PKEY_CTX reused for every call (what openssl speed does);
 *   - the same with the EVP_PKEY_CTX duplicated per call.
 * Not part of Scripts/bench or the build; a measuring aid kept with the benchmark.
 */
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int rsa = argc>1 && !strcmp(argv[1],"rsa");
  int N = argc>2?atoi(argv[2]):20000;
  EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  unsigned char msg[300]; memset(msg,'a',sizeof msg);
  unsigned char sig[512]; size_t siglen=sizeof sig;
  EVP_MD_CTX *s=EVP_MD_CTX_new(); EVP_DigestSignInit(s,NULL,EVP_sha256(),NULL,k); EVP_DigestSign(s,sig,&siglen,msg,sizeof msg);
  // A: template copy path
  EVP_MD_CTX *tmpl=EVP_MD_CTX_new(); EVP_PKEY_CTX *pc=NULL;
  EVP_DigestVerifyInit_ex(tmpl,&pc,"SHA256",NULL,NULL,k,NULL);
  if(rsa) EVP_PKEY_CTX_set_rsa_padding(pc,RSA_PKCS1_PADDING);
  double t=now(); int ok=0;
  for(int i=0;i<N;i++){EVP_MD_CTX*c=EVP_MD_CTX_new();EVP_MD_CTX_copy_ex(c,tmpl);EVP_MD_CTX_set_flags(c,EVP_MD_CTX_FLAG_FINALISE);ok+=EVP_DigestVerify(c,sig,siglen,msg,sizeof msg);EVP_MD_CTX_free(c);}
  printf("copy+DigestVerify: %.2f us ok=%d\n",(now()-t)/N*1e6,ok);
  // B: digest + reused pkey ctx
  EVP_PKEY_CTX *vc=EVP_PKEY_CTX_new(k,NULL); EVP_PKEY_verify_init(vc);
  if(rsa){EVP_PKEY_CTX_set_rsa_padding(vc,RSA_PKCS1_PADDING);} EVP_PKEY_CTX_set_signature_md(vc,EVP_sha256());
  EVP_MD *sha=EVP_MD_fetch(NULL,"SHA256",NULL);
  t=now(); ok=0;
  for(int i=0;i<N;i++){unsigned char d[32];unsigned int dl;EVP_Digest(msg,sizeof msg,d,&dl,sha,NULL);ok+=EVP_PKEY_verify(vc,sig,siglen,d,32);}
  printf("digest+reused PKEY_verify: %.2f us ok=%d\n",(now()-t)/N*1e6,ok);
  // C: digest + dup ctx per call
  t=now(); ok=0;
  for(int i=0;i<N;i++){unsigned char d[32];unsigned int dl;EVP_Digest(msg,sizeof msg,d,&dl,sha,NULL);EVP_PKEY_CTX*c=EVP_PKEY_CTX_dup(vc);ok+=EVP_PKEY_verify(c,sig,siglen,d,32);EVP_PKEY_CTX_free(c);}
  printf("digest+dup PKEY_verify: %.2f us ok=%d\n",(now()-t)/N*1e6,ok);
  return 0;}
